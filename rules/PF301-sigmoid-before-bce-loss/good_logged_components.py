# BCE terms that are only ever read as numbers (old-style .data[0]) while the critic trains on a
# different objective: they are a logged metric, not a training loss.
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
    penalty = (D(real) - D(fake)).pow(2).mean()
    penalty.backward()
    opt.step()
    print("D loss: %f" % d_loss.data[0])
