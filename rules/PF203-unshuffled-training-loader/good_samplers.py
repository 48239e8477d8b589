import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, WeightedRandomSampler
from torch.utils.data.distributed import DistributedSampler


def loaders(train_ds, weights):
    train_loader = DataLoader(train_ds, batch_size=64, sampler=DistributedSampler(train_ds))
    train_loader_balanced = DataLoader(train_ds, batch_size=64, shuffle=False,
                                       sampler=WeightedRandomSampler(weights, len(weights)))
    train_batches = DataLoader(train_ds, batch_sampler=BatchSampler(RandomSampler(train_ds), 64, False))
    return train_loader, train_loader_balanced, train_batches
