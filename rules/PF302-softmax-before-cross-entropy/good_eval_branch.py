import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x, return_probs=False):
        logits = self.fc(x)
        return logits.softmax(-1) if return_probs else logits


net = Net()
loss_fn = nn.CrossEntropyLoss()


def step(x, y):
    return loss_fn(net(x), y)
