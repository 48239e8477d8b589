import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 64),
            nn.ReLU(),
            nn.Linear(64, n_classes),
        )

    def forward(self, x):
        return self.layers(x)


model = Classifier(20, 3)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(10):
    outputs = model(torch.randn(32, 20))
    loss = criterion(outputs, torch.randint(0, 3, (32,)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
