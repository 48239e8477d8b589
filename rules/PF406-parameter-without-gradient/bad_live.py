"""Runtime: a layer added to the model after the optimizer was built, and a layer forward never uses."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g) * scale + shift
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        return self.body(x)


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.append(nn.Linear(3, 3))  # added after the optimizer was built: never updated
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss(), "optimizer": optimizer}


def build_unused_layer():
    torch.manual_seed(0)
    return {"obj": _loader(), "model": Net(), "loss": nn.CrossEntropyLoss()}
