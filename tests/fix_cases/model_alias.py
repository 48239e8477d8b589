import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
ema = model
crit = nn.BCELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    out = model(x)
    loss = crit(out, y)
    loss.backward()
    opt.step()
with torch.no_grad():
    print("val acc", (ema(torch.randn(8, 4)) > 0.5).float().mean())
