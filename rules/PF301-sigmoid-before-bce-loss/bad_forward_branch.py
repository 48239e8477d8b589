# A sigmoid on every branch of forward is a sigmoid (DCGAN's multi-GPU branch).
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, x):
        if self.ngpu > 1:
            out = nn.parallel.data_parallel(self.main, x, range(self.ngpu))
        else:
            out = self.main(x)
        return out.view(-1, 1).squeeze(1)


netD = Discriminator(ngpu=1)
criterion = nn.BCELoss()


def train_step(real, label):
    return criterion(netD(real), label)
