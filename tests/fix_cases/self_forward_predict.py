import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))

    def predict(self, x):
        return self.forward(x) > 0.5

model = Net()
crit = nn.BCELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.rand(8, 1))]:
    out = model(x)
    loss = crit(out, y)
    loss.backward()
    opt.step()
print(model.predict(torch.randn(2, 4)))
