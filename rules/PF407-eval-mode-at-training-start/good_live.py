"""Runtime, silent twins of bad_live.py: the same model with batch norm and dropout in train mode; and a
model in eval mode that has neither (eval() changes nothing there)."""

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
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    model.train()
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}


def build_eval_without_dropout_or_norm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    model.eval()
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss()}
