"""Runtime, silent twin of bad_live.py: the same tanh layer with its default initialisation on standardized
inputs (the saturation came from weights scaled 20x)."""

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
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3))
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
