"""Runtime: a SequentialSampler over rows stored in sessions of 16 rows of one class.

Each batch of 64 still mixes both classes (so PF204 stays silent), but the labels come in runs
8x longer than a shuffled order gives.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset


def build():
    g = torch.Generator().manual_seed(0)
    y = (torch.arange(4096) // 16) % 2
    X = torch.randn(4096, 8, generator=g) + y[:, None]
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=64)}
