# origin: pytorch/ignite examples/gan/dcgan.py @ 02314f16944b2370b5a92c82b5636385c4e664ee (excerpt)
import torch
import torch.nn as nn
from ignite.engine import Engine


class Discriminator(nn.Module):
    def __init__(self, nc, nf):
        super(Discriminator, self).__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels=nc, out_channels=nf, kernel_size=4, stride=2, padding=1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(in_channels=nf * 8, out_channels=1, kernel_size=4, stride=1, padding=0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, x):
        output = self.net(x)
        return output.view(-1, 1).squeeze(1)


def main(dataset, z_dim, d_filters, batch_size, epochs, learning_rate, beta_1, device):
    netG = Generator(z_dim, g_filters, num_channels).to(device)
    netD = Discriminator(num_channels, d_filters).to(device)
    bce = nn.BCELoss()
    optimizerG = torch.optim.Adam(netG.parameters(), lr=learning_rate, betas=(beta_1, 0.999))
    optimizerD = torch.optim.Adam(netD.parameters(), lr=learning_rate, betas=(beta_1, 0.999))

    def step(engine, batch):
        real, _ = batch
        netD.zero_grad()
        output = netD(real)
        errD_real = bce(output, real_labels)
        errD_real.backward()
        fake = netG(get_noise())
        output = netD(fake.detach())
        errD_fake = bce(output, fake_labels)
        errD_fake.backward()
        optimizerD.step()
        netG.zero_grad()
        output = netD(fake)
        errG = bce(output, real_labels)
        errG.backward()
        optimizerG.step()
        return {'errD': (errD_real + errD_fake).item(), 'errG': errG.item()}

    trainer = Engine(step)
    trainer.run(loader, epochs)
