import torch
import torch.nn as nn

class Trainer:
    def __init__(self, model):
        self.model = model
        self.crit = nn.BCELoss()

    def predict(self, x):
        return self.model(x) > 0.5

model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
trainer = Trainer(model)
crit = nn.BCELoss()
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    loss = crit(model(x), y)
    loss.backward()
print(trainer.predict(torch.randn(2, 4)))
