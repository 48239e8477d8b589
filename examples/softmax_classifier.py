"""A tabular classifier whose network ends in nn.Softmax, trained with nn.CrossEntropyLoss
(which applies log_softmax itself): a double softmax. PF302 at the loss line."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class SimpleNN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.activation = nn.ReLU()
        self.fc2 = nn.Linear(hidden_dim, output_dim)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        out = self.activation(self.fc1(x))
        return self.softmax(self.fc2(out))


def train(model, loader, epochs=20):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for X, y in loader:
            optimizer.zero_grad()
            outputs = model(X)
            loss = criterion(outputs, y)
            loss.backward()
            optimizer.step()
            predicted = torch.softmax(outputs, dim=1).argmax(1)  # metrics, after the loss: fine
    return predicted


if __name__ == "__main__":
    X = torch.randn(1000, 20)
    y = torch.randint(0, 3, (1000,))
    train(SimpleNN(20, 64, 3), DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True))
