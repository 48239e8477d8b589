# A model that returns (loss, logits), as BERT-style classifiers do: the loss is known by its backward().
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x, labels):
        logits = self.fc(x)
        return nn.functional.cross_entropy(logits, labels), logits


model = Classifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
total_loss = 0
for epoch in range(3):
    for x, y in loader:
        loss, logits = model(x, labels=y)
        total_loss += loss                         # PF503: every iteration's graph kept
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
