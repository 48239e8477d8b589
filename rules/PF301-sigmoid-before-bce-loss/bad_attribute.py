from torch import nn
from torch.nn import BCELoss


class Model(nn.Module):
    def __init__(self, input_size, hidden):
        super().__init__()
        self.linear = nn.Linear(input_size, hidden)
        self.out = nn.Linear(hidden, 1)
        self.sigmoid = nn.Sigmoid()

    def head(self, h):
        return self.sigmoid(self.out(h))

    def forward(self, x):
        h = self.linear(x).relu()
        return self.head(h)


class Trainer:
    def __init__(self):
        self.model = Model(20, 64)
        self.loss_fn = BCELoss()

    def step(self, x, y):
        pred = self.model(x)
        return self.loss_fn(pred, y)
