import torch
from torch import nn
from torch.utils.data import DataLoader


def build(ds, shuffle):
    # the caller decides: the training copy shuffles, the validation copy keeps its order
    return DataLoader(ds, batch_size=32, shuffle=shuffle)


train_loader = build(train_ds, shuffle=True)
val_loader = build(val_ds, shuffle=False)

model = nn.Linear(20, 2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(3):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for x, y in val_loader:
            criterion(model(x), y)
