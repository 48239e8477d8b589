"""Runtime, silent twins of bad_live.py: the same two-layer head, trainable; and a frozen pretrained-style
body under a trainable head (freezing is deliberate when something still learns)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.body(x))


def build():
    torch.manual_seed(0)
    return {"obj": _loader(), "model": Frozen(), "loss": nn.CrossEntropyLoss()}


def build_frozen_body():
    torch.manual_seed(0)
    model = Frozen()
    model.body.requires_grad_(False)
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
