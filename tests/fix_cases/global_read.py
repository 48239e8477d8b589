import torch
import torch.nn as nn

model = nn.Linear(4, 1)
crit = nn.BCELoss()
last = None

def train_step(x, y):
    global last
    last = torch.sigmoid(model(x))
    loss = crit(last, y)
    loss.backward()
    return loss

train_step(torch.randn(8, 4), torch.rand(8, 1))
print((last > 0.5).float().mean())
