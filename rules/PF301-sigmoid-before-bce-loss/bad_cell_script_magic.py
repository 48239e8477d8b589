# %%
# A VS Code / Jupytext cell script with IPython magics: it is read like a notebook (magics as pass).
import torch
import torch.nn as nn

%matplotlib inline

# %%
model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
criterion = nn.BCELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
