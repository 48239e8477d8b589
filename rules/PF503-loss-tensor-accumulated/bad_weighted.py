import torch.nn.functional as F


def train_epoch(model, loader, optimizer):
    running_loss = 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = F.cross_entropy(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss * inputs.size(0)
    return running_loss
