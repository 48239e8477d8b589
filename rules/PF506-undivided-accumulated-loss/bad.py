import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
accum_steps = 8


def train(loader):
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y)
        loss.backward()  # summed over accum_steps batches, never divided
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
