import torch.nn as nn

criterion = nn.BCELoss()


def training_step(model, x, y):
    logits = model(x)
    return criterion(logits.sigmoid(), y)
