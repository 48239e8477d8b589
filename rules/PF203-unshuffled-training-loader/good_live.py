"""Runtime: the same rows through a shuffling loader, and a sequential loader over pre-shuffled rows."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def build():
    g = torch.Generator().manual_seed(0)
    y = (torch.arange(4096) // 16) % 2
    X = torch.randn(4096, 8, generator=g) + y[:, None]
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)}


def build_preshuffled():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (4096,), generator=g)
    X = torch.randn(4096, 8, generator=g) + y[:, None]
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=64)}
