# Under `if __name__ == "__main__":` the training loader is handed to a train() imported from another file:
# this is the run, not a smoke test.
from torch.utils.data import DataLoader

from engine import train  # not in this folder: train() is not read, its name says what it does

if __name__ == "__main__":
    train_loader = DataLoader(list(range(100)), batch_size=8)   # PF203
    train(None, None, train_loader)
