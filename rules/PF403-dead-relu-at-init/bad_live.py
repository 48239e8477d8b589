"""Runtime: 24 of 32 hidden units with their bias set to -10: their ReLU outputs 0 for every sample."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g) * scale + shift
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        model[0].bias[:24].fill_(-10.0)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
