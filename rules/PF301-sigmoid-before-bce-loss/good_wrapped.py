# The same wrappers around a model that returns logits, with the stable loss.
import torch
import torch.nn as nn
from lightning.fabric import Fabric


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(64, 1))

    def forward(self, x):
        return self.main(x)


criterion = nn.BCEWithLogitsLoss()
D = nn.DataParallel(Discriminator())
loss_dp = criterion(D(torch.randn(8, 64)), torch.ones(8, 1))
fabric = Fabric()
D2, opt = fabric.setup(Discriminator(), torch.optim.Adam([]))
loss_fabric = nn.BCELoss()(torch.sigmoid(D2(torch.randn(8, 64))).mean(), torch.ones(1)).item()  # a metric
