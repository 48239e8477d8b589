# A training step defined inside main() and handed to a library loop (ignite's Engine(step)):
# it is never called in the file, yet it trains the discriminator with BCELoss on a sigmoid output.
import torch
import torch.nn as nn
from ignite.engine import Engine


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).view(-1)


def main(loader, device):
    netD = Discriminator().to(device)
    bce = nn.BCELoss()
    opt = torch.optim.Adam(netD.parameters())

    def step(engine, batch):
        x, y = batch
        opt.zero_grad()
        loss = bce(netD(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    Engine(step).run(loader, max_epochs=5)
