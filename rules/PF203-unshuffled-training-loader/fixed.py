import torch
from torch.utils.data import DataLoader, TensorDataset

X = torch.randn(1000, 20)
y = (X[:, 0] > 0).long()
train_ds = TensorDataset(X, y)

train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)  # no shuffle, no sampler: stored order
