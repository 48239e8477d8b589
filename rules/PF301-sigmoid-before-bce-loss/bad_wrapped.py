# Wrappers return the module they wrap: DataParallel, DistributedDataParallel, torch.compile,
# Lightning Fabric's setup and accelerate's prepare.
import torch
import torch.nn as nn
from accelerate import Accelerator
from lightning.fabric import Fabric
from torch.nn.parallel import DistributedDataParallel as DDP


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x)


criterion = nn.BCELoss()
D = nn.DataParallel(Discriminator())
loss_dp = criterion(D(torch.randn(8, 64)), torch.ones(8, 1))

fabric = Fabric()
D2, opt = fabric.setup(Discriminator(), torch.optim.Adam([]))
loss_fabric = criterion(D2(torch.randn(8, 64)), torch.ones(8, 1))

D3 = torch.compile(DDP(Discriminator()))
loss_compiled = criterion(D3(torch.randn(8, 64)), torch.ones(8, 1))

accelerator = Accelerator()
D4, opt4 = accelerator.prepare(Discriminator(), opt)
loss_accelerate = criterion(D4(torch.randn(8, 64)), torch.ones(8, 1))
