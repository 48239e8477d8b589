"""Runtime: healthy models on standardized inputs: a default-initialised MLP, and a ResNet-style block
with batch norm on 8x8 images."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(n=512, d=8, k=3):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.b2(self.c2(self.relu(self.b1(self.c1(x))))))


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    return {"obj": _loader(), "model": model, "loss": nn.CrossEntropyLoss(),
            "optimizer": torch.optim.Adam(model.parameters(), lr=1e-3)}


def build_resnet_block():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    X = torch.randn(512, 3, 8, 8, generator=g)
    y = torch.randint(0, 4, (512,), generator=g)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), Block(8),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    return {"obj": DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True), "model": model,
            "loss": nn.CrossEntropyLoss(), "optimizer": torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)}
