"""Runtime: a binary classifier with one output unit trained with CrossEntropyLoss (loss always 0)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def build():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 20, generator=g)
    y = (X[:, 0] > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True), "model": model,
            "loss": nn.CrossEntropyLoss()}
