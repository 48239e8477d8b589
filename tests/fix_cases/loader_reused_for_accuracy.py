import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

X, Y = torch.randn(64, 4), torch.randint(0, 3, (64,))
ds = TensorDataset(X, Y)
loader = DataLoader(ds, batch_size=8)
model = nn.Linear(4, 3)
crit = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in loader:
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
with torch.no_grad():
    preds = torch.cat([model(x).argmax(1) for x, _ in loader])
print("train acc", (preds == Y).float().mean())
