"""Runtime, silent twins of bad_live.py: the layer appended before the optimizer is built; and a layer
frozen on purpose (requires_grad False), which is not a parameter missing its gradient."""

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
    model.append(nn.Linear(3, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss(), "optimizer": optimizer}


def build_frozen_on_purpose():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    model[0].requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss(), "optimizer": optimizer}
