# The same loss pair on evaluation paths only: under torch.no_grad(), after model.eval(), in
# functions named for validation or testing. No gradient is taken there: not a training bug.
import torch
import torch.nn as nn
import lightning as L

model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
criterion = nn.BCELoss()


def evaluate(loader):  # silent for PF301 by its name alone, so no no_grad here (PF502's business)
    total = 0.0
    for x, y in loader:  # preflight: ignore[PF502]
        total += criterion(model(x), y).item()
    return total


def run(loader):
    model.eval()
    for x, y in loader:
        print(criterion(model(x), y))


def smoke(x, y):
    with torch.no_grad():
        return criterion(model(x), y)


class Module(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.BCEWithLogitsLoss()(self.net[0](x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_bce", nn.BCELoss()(self.net(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        return nn.BCELoss()(self.net(x), y)
