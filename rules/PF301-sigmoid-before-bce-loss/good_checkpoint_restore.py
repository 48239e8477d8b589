# A model that only comes from a checkpoint is unknown.
import torch
import torch.nn as nn

dec = torch.load("decoder.pt")
criterion = nn.BCELoss()


def train_step(z, x):
    return criterion(dec(z), x)
