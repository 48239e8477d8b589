# Imports inside try/except ImportError whose handler raises: the names are the imports.
try:
    import torch
    import torch.nn as nn
except ImportError:
    raise SystemExit("install torch")

model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
criterion = nn.BCELoss()
loss = criterion(model(torch.randn(4, 20)), torch.ones(4, 1))
