# The same moves on the stable loss: BCEWithLogitsLoss on logits, moved to the GPU.
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(20, 1)).to(device)
criterion = nn.BCEWithLogitsLoss().to(device)


class Trainer:
    def __init__(self, gpu):
        if gpu:
            self.loss = nn.BCEWithLogitsLoss().cuda(0)
        else:
            self.loss = nn.BCELoss()  # the branches disagree: not known to be BCELoss

    def step(self, x, y):
        return self.loss(torch.sigmoid(model(x)), y)


def train_step(x, y):
    return criterion(model(x), y)
