import torch
import torch.nn as nn

model = nn.Linear(4, 1)
crit = nn.BCELoss()
probs = None
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))] * 3:
    if probs is not None:
        print("prev mean prob", probs.mean())
    probs = torch.sigmoid(model(x))
    loss = crit(probs, y)
    loss.backward()
