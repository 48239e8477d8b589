# origin: znxlwm/pytorch-generative-model-collections GAN.py @ 4caaace769e71a0b9b15ecebb35bb5adf49a3e83 (excerpt)
import torch
import torch.nn as nn
import torch.optim as optim


class discriminator(nn.Module):
    def __init__(self, input_dim=1, output_dim=1, input_size=32):
        super(discriminator, self).__init__()
        self.fc = nn.Sequential(
            nn.Linear(128 * (input_size // 4) * (input_size // 4), 1024),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(0.2),
            nn.Linear(1024, output_dim),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.fc(input.view(input.size(0), -1))


class GAN(object):
    def __init__(self, args):
        self.gpu_mode = args.gpu_mode
        self.D = discriminator(input_dim=1, output_dim=1, input_size=args.input_size)
        self.D_optimizer = optim.Adam(self.D.parameters(), lr=args.lrD, betas=(args.beta1, args.beta2))
        if self.gpu_mode:
            self.D.cuda()
            self.BCE_loss = nn.BCELoss().cuda()
        else:
            self.BCE_loss = nn.BCELoss()

    def train(self):
        self.D.train()
        for epoch in range(self.epoch):
            for iter, (x_, _) in enumerate(self.data_loader):
                self.D_optimizer.zero_grad()
                D_real = self.D(x_)
                D_real_loss = self.BCE_loss(D_real, self.y_real_)
                D_fake = self.D(self.G(z_))
                D_fake_loss = self.BCE_loss(D_fake, self.y_fake_)
                D_loss = D_real_loss + D_fake_loss
                D_loss.backward()
                self.D_optimizer.step()
