"""Runtime: a last layer initialised 100x too large: the first loss is far above ln 3."""

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
        model[2].weight.mul_(100.0)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
