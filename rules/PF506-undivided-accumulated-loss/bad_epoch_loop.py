# Accumulation inside an epoch loop (the shape of an EWC fine-tuning script): one finding, not one per loop.
import torch
from torch import nn

model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
k = 4
opt.zero_grad()
for epoch in range(3):
    for step, (x, y) in enumerate(loader):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()                            # PF506, once
        if step % k == 0:
            opt.step()
            opt.zero_grad()
