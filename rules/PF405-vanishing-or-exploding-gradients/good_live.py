"""Runtime, silent twin of bad_live.py: ten hidden layers as well, with ReLU and batch norm instead of a
sigmoid stack (depth alone does not make gradients vanish)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


def build():
    torch.manual_seed(0)
    layers = [nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU()]
    for _ in range(9):
        layers += [nn.Linear(32, 32), nn.BatchNorm1d(32), nn.ReLU()]
    return {"obj": _loader(), "model": nn.Sequential(*layers, nn.Linear(32, 3)), "loss": nn.CrossEntropyLoss()}
