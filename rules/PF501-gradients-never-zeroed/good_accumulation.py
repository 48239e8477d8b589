"""Deliberate gradient accumulation with a counter: zero_grad() every accum_steps iterations."""
import torch
import torch.nn.functional as F


def train(model, loader, optimizer, accum_steps=4):
    model.train()
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
