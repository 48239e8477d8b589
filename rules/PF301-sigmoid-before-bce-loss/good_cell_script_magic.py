# %%
# The same cell script trained on logits with BCEWithLogitsLoss: nothing to report.
import torch
import torch.nn as nn

%matplotlib inline

# %%
model = nn.Sequential(nn.Linear(20, 1))
criterion = nn.BCEWithLogitsLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
