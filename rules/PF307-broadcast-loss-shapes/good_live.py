"""Runtime: the same regression with the head squeezed to (N,), and with targets of shape (N, 1)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Squeezed(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 8, generator=g)
    return X, X[:, 0] * 2.0 + 0.1 * torch.randn(512, generator=g)


def build():
    torch.manual_seed(0)
    X, y = _data()
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True), "model": Squeezed(),
            "loss": nn.MSELoss()}


def build_column_target():
    torch.manual_seed(0)
    X, y = _data()
    return {"obj": DataLoader(TensorDataset(X, y.unsqueeze(1)), batch_size=32, shuffle=True),
            "model": nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)), "loss": nn.L1Loss()}
