# The same nested ignite step, trained on logits with BCEWithLogitsLoss: nothing to report.
import torch
import torch.nn as nn
from ignite.engine import Engine


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).view(-1)


def main(loader, device):
    netD = Discriminator().to(device)
    bce = nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(netD.parameters())

    def step(engine, batch):
        x, y = batch
        opt.zero_grad()
        loss = bce(netD(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    Engine(step).run(loader, max_epochs=5)
