import torch
import torch.nn as nn

model = nn.Linear(4, 1)
crit = nn.BCELoss()
history = []

def report():
    print("mean prob", probs.mean().item())

for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    probs = torch.sigmoid(model(x))
    loss = crit(probs, y)
    loss.backward()
report()
