import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttentionClassifier(nn.Module):
    def __init__(self, d, n_classes):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x):
        scores = self.q(x) @ self.k(x).transpose(-2, -1) / math.sqrt(x.size(-1))
        attn = torch.softmax(scores, dim=-1)
        pooled = (attn @ self.v(x)).mean(1)
        return self.head(pooled)


model = SelfAttentionClassifier(32, 5)


def step(x, y):
    return F.cross_entropy(model(x), y)
