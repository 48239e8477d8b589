# The head replaced by logits: the stable loss is used, and the library model is otherwise unknown.
import torch.nn as nn
import torchvision

model = torchvision.models.resnet50(weights=None)
model.fc = nn.Linear(2048, 1)
criterion = nn.BCEWithLogitsLoss()
other = torchvision.models.resnet18(weights=None)


def train_step(x, y):
    return criterion(model(x), y) + nn.BCELoss()(other(x), y)
