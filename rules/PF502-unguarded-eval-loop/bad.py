import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(64, 2)

    def forward(self, x):
        return self.head(self.body(x))


def evaluate(model, val_loader):
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:  # model.eval() is never called
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(val_loader.dataset)
