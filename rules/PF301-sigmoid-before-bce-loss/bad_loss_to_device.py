# The loss moved to the GPU is still BCELoss (.to / .cuda return their receiver), and an attribute
# assigned a BCELoss in both branches of an `if` is a BCELoss whichever branch runs.
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid()).to(device)
criterion = nn.BCELoss().to(device)


class Trainer:
    def __init__(self, gpu):
        if gpu:
            self.loss = nn.BCELoss().cuda(0)
        else:
            self.loss = nn.BCELoss()

    def step(self, x, y):
        return self.loss(model(x), y)


def train_step(x, y):
    return criterion(model(x), y)
