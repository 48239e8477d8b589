"""Runtime: shuffled batches; and a heavily imbalanced dataset (98% one class), where most random
batches are single-class by chance and the rule compares with that."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def build():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (3000,), generator=g)
    X = torch.randn(3000, 8, generator=g)
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)}


def build_imbalanced():
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(3000, generator=g) < 0.02).long()
    X = torch.randn(3000, 8, generator=g)
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)}
