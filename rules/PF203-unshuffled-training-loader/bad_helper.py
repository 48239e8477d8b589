import torch
from torch import nn
from torch.utils.data import DataLoader


def build(ds):
    # one helper for every split: nothing here says train or eval, and it never shuffles
    return DataLoader(ds, batch_size=32)


train_loader = build(train_ds)
val_loader = build(val_ds)

model = nn.Linear(20, 2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(3):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
