from mylib.data import DataLoader

train_loader = DataLoader("train.csv", batch_size=64, shuffle=False)
