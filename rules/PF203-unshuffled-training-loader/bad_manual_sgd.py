# A hand-written SGD update through .grad (no optimizer): a training loop, so its loader is a training loader.
import torch
from torch.utils.data import DataLoader, TensorDataset

ds = TensorDataset(torch.randn(100, 3), torch.randn(100, 1))
model = torch.nn.Linear(3, 1)
loader = DataLoader(ds, batch_size=10)
lr = 0.01
for epoch in range(10):
    for x, y in loader:
        loss = torch.nn.functional.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
