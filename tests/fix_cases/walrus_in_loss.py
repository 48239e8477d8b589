import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
crit = nn.BCELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    loss = crit(p := torch.sigmoid(x.sum(1, keepdim=True)), y)
    print("acc", ((p > 0.5) == (y > 0.5)).float().mean())
