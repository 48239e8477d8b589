import torch
import torch.nn.functional as F


def train(model, loader, epochs=5):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        opt.zero_grad()  # once per epoch: the batches of an epoch add up
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
