# A train(model, ...) helper that nothing in the file calls: its `model` is whatever a caller passes,
# so it is not assumed to be the file's model (documented: only what callers pass is followed).
import torch.nn as nn
import torch.nn.functional as F

net = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())


def train(model, opt, xb, yb):
    loss = F.binary_cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
