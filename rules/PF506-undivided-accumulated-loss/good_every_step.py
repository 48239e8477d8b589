"""step() every iteration and a periodic log: no accumulation."""
import torch.nn.functional as F


def train(model, loader, optimizer, log_every=50):
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if i % log_every == 0:
            print(i, loss.item())
