# Losses that are not trained on: a logged metric, an adversarial attack's gradient for the input,
# nll_loss(reduction="none") on probabilities as a focal weight.
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
classifier = nn.Sequential(nn.Linear(20, 5), nn.Softmax(dim=1))


def train_step(x, y, writer, step):
    logits = model[0](x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    writer.add_scalar("bce_on_probs", F.binary_cross_entropy(model(x), y), step)
    metric = F.binary_cross_entropy(model(x), y).item()
    loss.backward()
    return metric


def fgsm(x, y, eps=0.03):
    x = x.clone().requires_grad_(True)
    adv_loss = F.binary_cross_entropy(model(x), y)
    grad, = torch.autograd.grad(adv_loss, x)
    return x + eps * grad.sign()


def focal_weight(x, y, gamma=2.0):
    pt = -F.nll_loss(classifier(x), y, reduction="none")
    return (1 - pt) ** gamma
