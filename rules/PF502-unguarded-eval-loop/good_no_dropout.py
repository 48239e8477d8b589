"""A model without dropout or batch norm: train and eval modes are the same."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))


@torch.inference_mode()
def evaluate(val_loader):
    return sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)


def test_loop(loader):
    with torch.no_grad():
        for x, y in loader:
            model(x)
