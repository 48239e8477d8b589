import torch
import torch.nn as F  # an alias that does not mean torch.nn.functional


class BCELoss:
    """A project loss that takes logits (it is not torch.nn.BCELoss)."""

    def __call__(self, logits, y):
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)


criterion = BCELoss()


def step(model, x, y):
    probs = torch.sigmoid(model(x))
    loss = F.binary_cross_entropy(probs, y)
    return criterion(model(x), y) + loss
