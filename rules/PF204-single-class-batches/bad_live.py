"""Runtime: a batch sampler that groups rows by class (as some "balanced" samplers do by mistake).

Its sampler is custom, so PF203 cannot tell whether it shuffles; the batches show it: each one
holds a single class.
"""

import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset


class ByClassBatchSampler(Sampler):
    def __init__(self, labels, batch_size):
        self.labels = labels
        self.batch_size = batch_size

    def __iter__(self):
        for c in self.labels.unique().tolist():
            idx = (self.labels == c).nonzero().flatten()
            idx = idx[torch.randperm(len(idx))]
            yield from idx.split(self.batch_size)

    def __len__(self):
        return sum((int((self.labels == c).sum()) + self.batch_size - 1) // self.batch_size
                   for c in self.labels.unique().tolist())


def build():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (3000,), generator=g)
    X = torch.randn(3000, 8, generator=g)
    ds = TensorDataset(X, y)
    return {"obj": DataLoader(ds, batch_sampler=ByClassBatchSampler(y, 32))}
