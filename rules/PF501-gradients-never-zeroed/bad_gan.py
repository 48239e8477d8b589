import torch
import torch.nn as nn

netD = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
netG = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4)
criterion = nn.BCEWithLogitsLoss()


def train_d(real, steps):
    for _ in range(steps):
        fake = netG(torch.randn(real.size(0), 8)).detach()
        errD = criterion(netD(real), torch.ones(real.size(0), 1)) + criterion(netD(fake), torch.zeros(real.size(0), 1))
        errD.backward()
        optimizerD.step()
