# An explicit SequentialSampler on the training loader (the shape of BERT fine-tuning scripts): the same order
# every epoch, as with shuffle=False.
import torch
from torch.utils.data import DataLoader, SequentialSampler, TensorDataset

train_dataset = TensorDataset(torch.randn(100, 8), torch.randint(0, 2, (100,)))
train_sampler = SequentialSampler(train_dataset)
train_dataloader = DataLoader(train_dataset, sampler=train_sampler, batch_size=8)   # PF203
model = torch.nn.Linear(8, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in train_dataloader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
