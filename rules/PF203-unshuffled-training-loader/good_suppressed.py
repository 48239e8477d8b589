from torch.utils.data import DataLoader


def sequence_loaders(train_windows):
    # windows of a time series must keep their order for the stateful RNN
    train_loader = DataLoader(train_windows, batch_size=1, shuffle=False)  # preflight: ignore[PF203]
    return train_loader
