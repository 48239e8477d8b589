# A checkpoint restored into the models' names before the loop: still those models.
import torch
import torch.nn as nn

enc = nn.Sequential(nn.Linear(20, 8))
dec = nn.Sequential(nn.Linear(8, 20), nn.Sigmoid())
try:
    enc, dec = torch.load("checkpoint.pt")
except FileNotFoundError:
    pass
criterion = nn.BCELoss()


def train_step(x):
    return criterion(dec(enc(x)), x)
