import torch
import torch.nn as nn

model = nn.Linear(4, 1)
crit = nn.BCELoss()
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    logits = model(x)
    probs = logits.sigmoid_()
    loss = crit(probs, y)
    loss.backward()
    print("mean prob", probs.mean())
