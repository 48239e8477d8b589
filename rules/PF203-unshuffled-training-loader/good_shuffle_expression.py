import argparse

from torch.utils.data import DataLoader

parser = argparse.ArgumentParser()
parser.add_argument("--no-shuffle", action="store_true")
args = parser.parse_args()


def make_train_loader(train_ds, **kwargs):
    return DataLoader(train_ds, batch_size=64, shuffle=not args.no_shuffle)


def make_train_loader_from(train_ds, **kwargs):
    return DataLoader(train_ds, **kwargs)
