# origin: eriklindernoren/PyTorch-GAN implementations/dragan/dragan.py @ 03db6e6f1f19c2e437c340a4b9e10963927c38c4 (excerpt)
import torch.nn as nn
import torch


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(nn.Conv2d(opt.channels, 16, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True))
        ds_size = opt.img_size // 2**4
        self.adv_layer = nn.Sequential( nn.Linear(128*ds_size**2, 1),
                                        nn.Sigmoid())

    def forward(self, img):
        out = self.model(img)
        out = out.view(out.shape[0], -1)
        validity = self.adv_layer(out)
        return validity


adversarial_loss = torch.nn.BCELoss()
discriminator = Discriminator()

for epoch in range(opt.n_epochs):
    for i, (imgs, _) in enumerate(mnist_loader):
        optimizer_G.zero_grad()
        gen_imgs = generator(z)
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()
        optimizer_D.zero_grad()
        # d_loss is only printed: the critic trains on the gradient penalty alone
        real_loss = adversarial_loss(discriminator(real_imgs), valid)
        fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data)
        gradient_penalty.backward()
        optimizer_D.step()
        print("[D loss: %f] [G loss: %f]" % (d_loss.data[0], g_loss.data[0]))
