# A loader named train that is never trained on: features extracted under no_grad, and a smoke
# test in __main__ of a file that never trains.
import torch
from torch.utils.data import DataLoader


def extract_features(model, train_ds):
    train_loader = DataLoader(train_ds, batch_size=256)
    feats = []
    with torch.no_grad():
        for x, _ in train_loader:
            feats.append(model(x))
    return torch.cat(feats)


if __name__ == "__main__":
    from dataset import TrainSet

    train_loader = DataLoader(TrainSet(), batch_size=4)
    x, y = next(iter(train_loader))
    print(x.shape, y.shape)
