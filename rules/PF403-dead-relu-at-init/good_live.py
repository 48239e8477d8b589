"""Runtime, silent twin of bad_live.py: 4 of 32 hidden units with their bias at -10 (12% dead, under the
70% threshold; a few dead units are normal)."""

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
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        model[0].bias[:4].fill_(-10.0)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
