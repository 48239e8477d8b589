# The model defined in another file returns logits: silent.
import torch
import torch.nn as nn
from models import Classifier

model = Classifier()
criterion = nn.CrossEntropyLoss()


def train(loader, opt):
    for x, y in loader:
        loss = criterion(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
