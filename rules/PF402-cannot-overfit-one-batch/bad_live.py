"""Runtime: a model whose forward detaches its hidden layer, so only the last layer can learn and a
frozen last layer leaves nothing that trains."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g) * scale + shift
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.head = nn.Linear(32, 3)
        self.head.requires_grad_(False)

    def forward(self, x):
        return self.head(self.body(x).detach())


def build():
    torch.manual_seed(0)
    return {"obj": _loader(), "model": Detached(), "loss": nn.CrossEntropyLoss()}
