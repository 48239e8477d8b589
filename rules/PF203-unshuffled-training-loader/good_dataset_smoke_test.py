# A dataset module's smoke test under __main__: it calls train_test_split (a split, not a training).
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset


class Tab(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.tensor(self.X[i]), torch.tensor(self.y[i])


def splits(X, y):
    return train_test_split(X, y, test_size=0.2)


if __name__ == "__main__":
    X, y = np.random.rand(50, 3), np.random.rand(50)
    train_loader = DataLoader(Tab(X, y), batch_size=4)
    print(next(iter(train_loader)))
