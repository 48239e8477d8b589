"""Image classification from folders (one folder per class): ImageFolder lists the files class by
class, and the training loader does not shuffle, so every batch holds one class. PF203."""

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

transform = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])
train_data = datasets.ImageFolder("data/train", transform=transform)
val_data = datasets.ImageFolder("data/val", transform=transform)

train_loader = DataLoader(train_data, batch_size=32, num_workers=4)
val_loader = DataLoader(val_data, batch_size=32, shuffle=False)

model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, len(train_data.classes)))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(5):
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
