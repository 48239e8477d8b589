# One training function, a training loop and a validation loop that reuse the name `loss_val`: the pair is
# reported where it trains, not again where the validation loss is only logged.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

head = nn.Sequential(nn.Linear(8, 10), nn.Softmax(dim=1))


def train_new_model():
    model = head
    optimizer = torch.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()
    data = TensorDataset(torch.randn(64, 8), torch.randint(0, 10, (64,)))
    train_dataloader = DataLoader(data, batch_size=8, shuffle=True)
    val_dataloader = DataLoader(data, batch_size=8)
    for epoch in range(3):
        for bx, by in train_dataloader:
            loss_val = loss(model(bx), by)         # PF302
            optimizer.zero_grad()
            loss_val.backward()
            optimizer.step()
        total = 0.0
        for bx, by in val_dataloader:  # preflight: ignore[PF502] (no dropout or batch norm)
            loss_val = loss(model(bx), by)         # the validation loss, only logged: not reported
            total += loss_val.detach().numpy()
        print(total)
