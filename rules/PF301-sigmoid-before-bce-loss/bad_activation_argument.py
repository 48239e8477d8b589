# The activation is passed to the constructor and applied in forward; a parameter default counts too.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Discriminator(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f
        self.out = nn.Linear(64, 1)

    def forward(self, x):
        return self.f(self.out(x))


class Head(nn.Module):
    def __init__(self, act=nn.Sigmoid()):
        super().__init__()
        self.fc = nn.Linear(64, 1)
        self.act = act

    def forward(self, x):
        return self.act(self.fc(x))


D = Discriminator(f=torch.sigmoid)
loss = F.binary_cross_entropy(D(torch.randn(4, 64)), torch.ones(4, 1))
head = Head()
loss2 = nn.BCELoss()(head(torch.randn(4, 64)), torch.ones(4, 1))
