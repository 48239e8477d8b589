"""The classic layout: train() sets train mode itself, test() sets eval mode (pytorch/examples mnist)."""
import torch
import torch.nn.functional as F


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        F.nll_loss(F.log_softmax(model(x), dim=1), y).backward()
        optimizer.step()


def test(model, loader):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


def validate_and_restore(model, loader):
    model.eval()
    with torch.no_grad():
        score = sum(model(x).sum().item() for x, _ in loader)
    model.train()
    return score


def main(model, train_loader, test_loader, epochs=14):
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    for epoch in range(epochs):
        train(model, train_loader, optimizer)
        test(model, test_loader)


def main2(model, train_loader, test_loader, optimizer):
    for step, (x, y) in enumerate(train_loader):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 100 == 0:
            validate_and_restore(model, test_loader)
