from torch.utils.data import DataLoader
from torchvision import datasets, transforms

mnist_train = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
loader = DataLoader(mnist_train, 128, False)  # shuffle is the third positional argument
