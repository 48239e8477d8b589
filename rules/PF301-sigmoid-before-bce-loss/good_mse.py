import torch
from torch import nn

# a sigmoid output regressed onto targets in [0, 1] with MSE: a modelling choice, not this bug
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
criterion = nn.MSELoss()


def step(x, target):
    return criterion(model(x), target)
