import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
criterion = nn.BCEWithLogitsLoss()


def train_step(x, y):
    logits = model(x).squeeze(1)
    loss = criterion(logits, y)
    probs = torch.sigmoid(logits)  # for metrics, after the loss
    accuracy = ((probs > 0.5) == y).float().mean()
    return loss, accuracy
