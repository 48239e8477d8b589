from torch.utils.data import DataLoader
from torchvision import datasets

test_set = datasets.MNIST("data", train=False, download=True)
val_ds = datasets.MNIST("data", train=False)
test_loader = DataLoader(test_set, batch_size=256, shuffle=False)
val_loader = DataLoader(val_ds, batch_size=256)
eval_loader = DataLoader(datasets.MNIST("data", train=False), batch_size=256)
loaders = {"train": DataLoader(val_ds, batch_size=8, shuffle=True), "test": DataLoader(test_set, batch_size=8)}


def evaluate(model, dataset):
    loader = DataLoader(dataset, batch_size=512, shuffle=False)
    return [model(x) for x, _ in loader]
