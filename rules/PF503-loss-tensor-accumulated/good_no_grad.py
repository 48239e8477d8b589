import torch
import torch.nn.functional as F


def evaluate(model, loader):
    model.eval()
    total = 0
    with torch.no_grad():
        for x, y in loader:
            total += F.cross_entropy(model(x), y)
    return total / len(loader)
