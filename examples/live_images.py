"""The live check on an image loader: scikit-learn's digits as 8x8 images with pixels 0..255, sorted by
label, and a small CNN that ends in nn.Softmax fed to nn.CrossEntropyLoss (README, "In a training script").

    python examples/live_images.py
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import preflight

digits = load_digits()
order = np.argsort(digits.target, kind="stable")  # sorted by label, as a file often is
images = torch.tensor(digits.images[order] * 255 / 16, dtype=torch.float32).unsqueeze(1)  # (N, 1, 8, 8)
loader = DataLoader(TensorDataset(images, torch.tensor(digits.target[order])), batch_size=32)

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 10),
                      nn.Softmax(dim=1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

report = preflight.check(loader, model=model, loss=nn.CrossEntropyLoss(), optimizer=optimizer)
print(report)
