import torch
from torch.utils.data import DataLoader, IterableDataset


class ShardStream(IterableDataset):
    """Streams pre-shuffled shards; an IterableDataset orders itself (DataLoader cannot shuffle it)."""

    def __init__(self, shards):
        self.shards = shards

    def __iter__(self):
        for shard in self.shards:
            yield from torch.load(shard)


train_stream = ShardStream(["shard-0.pt", "shard-1.pt"])
train_loader = DataLoader(train_stream, batch_size=64)
