# A loader named for the training split, iterated only to estimate Fisher information for EWC: backward() to
# read the gradients, no optimizer step. Its order changes nothing.
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

model = nn.Linear(8, 2)


def fisher(model, loader):
    f = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    model.eval()
    for x, y in loader:
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        for n, p in model.named_parameters():
            f[n] += p.grad.data ** 2 / len(loader)
    return f


train_loader_wiki = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8)
fisher_info = fisher(model, train_loader_wiki)
