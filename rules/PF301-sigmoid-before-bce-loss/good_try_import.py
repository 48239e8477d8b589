# A handler that falls through binds something else: the name is not known to be torch.nn.
try:
    import torch.nn as nn
except ImportError:
    nn = None

model = nn.Sequential(nn.Linear(20, 1))
criterion = nn.BCEWithLogitsLoss()
