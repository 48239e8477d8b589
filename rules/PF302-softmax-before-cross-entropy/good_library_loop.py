# The same library loops on a model that returns logits.
import torch
import torch.nn as nn
from ignite.engine import create_supervised_trainer

model = nn.Sequential(nn.Linear(784, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
trainer = create_supervised_trainer(model, optimizer, nn.CrossEntropyLoss())
probs = nn.Sequential(nn.Linear(784, 10), nn.LogSoftmax(dim=1))
trainer2 = create_supervised_trainer(probs, optimizer, nn.NLLLoss())
