import torchvision
import torch.utils.data as tud

trainset = torchvision.datasets.CIFAR10(root="./data", train=True, download=True)
trainloader = tud.DataLoader(trainset, batch_size=4, shuffle=False, num_workers=2)
