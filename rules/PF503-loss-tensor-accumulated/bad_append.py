import torch
import torch.nn as nn

net = nn.Linear(4, 1)
opt = torch.optim.Adam(net.parameters())
loss_fn = nn.MSELoss()
history = []
for step in range(1000):
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()
    history.append(loss)
