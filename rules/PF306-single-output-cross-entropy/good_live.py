"""Runtime: two output units with CrossEntropyLoss, and one output unit with BCEWithLogitsLoss."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 20, generator=g)
    y = (X[:, 0] > 0).long()
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}


def build_bce():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
    return {"obj": _loader(), "model": model, "loss": nn.BCEWithLogitsLoss()}
