import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
crit = nn.BCELoss()
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    out = model(x)
    loss = crit(out, y)
    loss.backward()
model.eval()
feats = model[:-1](torch.randn(2, 4))
