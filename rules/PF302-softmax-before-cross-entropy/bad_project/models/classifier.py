import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.net(x)
