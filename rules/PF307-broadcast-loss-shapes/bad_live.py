"""Runtime: a regression head of one unit, output (N, 1), and targets of shape (N,) with nn.MSELoss."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 8, generator=g)
    y = X[:, 0] * 2.0 + 0.1 * torch.randn(512, generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


def build():
    torch.manual_seed(0)
    return {"obj": _loader(), "model": nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)),
            "loss": nn.MSELoss()}
