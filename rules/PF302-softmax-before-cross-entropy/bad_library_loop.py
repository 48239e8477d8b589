# Library training loops handed a model and a loss together: ignite's create_supervised_trainer and
# HF Trainer with a custom loss function.
import torch
import torch.nn as nn
import torch.nn.functional as F
from ignite.engine import create_supervised_trainer
from transformers import Trainer

model = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
trainer = create_supervised_trainer(model, optimizer, nn.CrossEntropyLoss())


def my_loss(outputs, labels, num_items_in_batch=None):
    return F.cross_entropy(outputs, labels)


hf = Trainer(model=model, compute_loss_func=my_loss)
