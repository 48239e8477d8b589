# The discriminator trains on the mean of two BCE terms; each term is also printed with .item().
# Printing a term does not make it a metric: it is trained through d_loss.
import torch
import torch.nn as nn

D = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
bce = nn.BCELoss()
opt = torch.optim.Adam(D.parameters())

for real, fake in loader:
    opt.zero_grad()
    real_loss = bce(D(real), torch.ones(len(real), 1))
    fake_loss = bce(D(fake), torch.zeros(len(fake), 1))
    d_loss = (real_loss + fake_loss) / 2
    d_loss.backward()
    opt.step()
    print(real_loss.item(), fake_loss.item())
