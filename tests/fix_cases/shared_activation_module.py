import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(4, 4)
        self.fc = nn.Linear(4, 1)
        self.act = nn.Sigmoid()

    def forward(self, x):
        x = x * self.act(self.gate(x))
        return self.act(self.fc(x))

model = Net()
crit = nn.BCELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
