import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
criterion = nn.CrossEntropyLoss()


def step(x, y):
    logits = model(x)
    loss = criterion(logits, y)
    probs = F.softmax(logits, dim=1)  # metrics, after the loss
    logits = logits.softmax(dim=1)  # reassigned after the loss: not a bug
    return loss, probs.argmax(1), logits
