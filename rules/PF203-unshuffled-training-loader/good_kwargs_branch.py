# shuffle set on every path (and a dict that is not known is not judged).
import torch
from torch.utils.data import DataLoader
from torchvision import datasets

use_cuda = torch.cuda.is_available()
train_kwargs = {"batch_size": 64, "shuffle": True}
if use_cuda:
    train_kwargs.update({"num_workers": 1, "pin_memory": True})
train_data = datasets.MNIST("../data", train=True, download=True)
train_loader = DataLoader(train_data, **train_kwargs)
train_loader2 = DataLoader(train_data, **dict(batch_size=32, shuffle=True))
train_loader3 = DataLoader(train_data, **load_config())
