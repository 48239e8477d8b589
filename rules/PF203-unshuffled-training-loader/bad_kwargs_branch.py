# DataLoader(**train_kwargs) where shuffle is set only when CUDA is used: on CPU the training loader
# does not shuffle (pytorch/examples' MNIST pattern).
import torch
from torch.utils.data import DataLoader
from torchvision import datasets

use_cuda = torch.cuda.is_available()
train_kwargs = {"batch_size": 64}
test_kwargs = {"batch_size": 1000}
if use_cuda:
    cuda_kwargs = {"num_workers": 1, "pin_memory": True, "shuffle": True}
    train_kwargs.update(cuda_kwargs)
    test_kwargs.update(cuda_kwargs)
train_data = datasets.MNIST("../data", train=True, download=True)
train_loader = DataLoader(train_data, **train_kwargs)
test_loader = DataLoader(datasets.MNIST("../data", train=False), **test_kwargs)
