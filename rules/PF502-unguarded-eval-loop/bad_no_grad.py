import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
criterion = nn.CrossEntropyLoss()


def validate(test_loader):
    model.eval()
    total = 0.0
    for x, y in test_loader:  # outside torch.no_grad(): a graph per batch (info)
        total += criterion(model(x), y).item()
    return total / len(test_loader)
