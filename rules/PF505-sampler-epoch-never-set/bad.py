import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main(model, epochs=10):
    dist.init_process_group("nccl")
    dataset = TensorDataset(torch.randn(1024, 20), torch.randint(0, 2, (1024,)))
    train_sampler = DistributedSampler(dataset)
    loader = DataLoader(dataset, batch_size=64, sampler=train_sampler)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
