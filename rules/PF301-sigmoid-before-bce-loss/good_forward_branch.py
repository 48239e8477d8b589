# Logits on one branch and probabilities on the other: not known to be a sigmoid.
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(nn.Linear(64, 1))

    def forward(self, x):
        if self.ngpu > 1:
            out = torch.sigmoid(nn.parallel.data_parallel(self.main, x, range(self.ngpu)))
        else:
            out = self.main(x)
        return out


netD = Discriminator(ngpu=1)
criterion = nn.BCELoss()


def train_step(real, label):
    return criterion(netD(real), label)
