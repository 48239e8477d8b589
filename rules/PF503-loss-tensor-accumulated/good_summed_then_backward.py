"""Summing the losses of several heads (or chunks) to backward once is not accumulation across steps."""
import torch.nn.functional as F


def step(model, optimizer, chunks):
    optimizer.zero_grad()
    loss = 0
    for x, y in chunks:
        loss += F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()


def multi_task(model, optimizer, batch, heads):
    optimizer.zero_grad()
    losses = []
    for head, target in heads:
        losses.append(F.mse_loss(head(model(batch)), target))
    total = sum(losses)
    total.backward()
    optimizer.step()
