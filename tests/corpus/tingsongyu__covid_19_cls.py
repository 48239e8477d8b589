# origin: TingsongYu/PyTorch-Tutorial-2nd code/chapter-2/02_COVID_19_cls.py @ 8a9ff6afafa0c280f95499b649d9105cca36bd1a (excerpt)
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader


def main():
    train_data = COVID19Dataset(root_dir=img_dir, txt_path=path_txt_train, transform=transforms_func)
    valid_data = COVID19Dataset(root_dir=img_dir, txt_path=path_txt_valid, transform=transforms_func)
    train_loader = DataLoader(dataset=train_data, batch_size=2)
    valid_loader = DataLoader(dataset=valid_data, batch_size=2)

    class TinnyCNN(nn.Module):
        def __init__(self, cls_num=2):
            super(TinnyCNN, self).__init__()
            self.convolution_layer = nn.Conv2d(1, 1, kernel_size=(3, 3))
            self.fc = nn.Linear(36, cls_num)

        def forward(self, x):
            x = self.convolution_layer(x)
            x = x.view(x.size(0), -1)
            return self.fc(x)

    model = TinnyCNN(2)
    loss_f = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    for epoch in range(100):
        model.train()
        for data, labels in train_loader:
            outputs = model(data)
            optimizer.zero_grad()
            loss = loss_f(outputs, labels)
            loss.backward()
            optimizer.step()
        model.eval()
        for data, label in valid_loader:
            outputs = model(data)
            loss = loss_f(outputs, labels)
            _, predicted = torch.max(outputs.data, 1)
