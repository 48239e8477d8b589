import torch
import torch.nn.functional as F


def train(model, loader, optimizer, accum_steps=4):
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y)
        loss = loss / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


def train_amp(model, loader, optimizer, args):
    scaler = torch.cuda.amp.GradScaler()
    for step, batch in enumerate(loader):
        loss = F.cross_entropy(model(batch[0]), batch[1])
        if args.gradient_accumulation_steps > 1:
            loss /= args.gradient_accumulation_steps
        scaler.scale(loss).backward()
        if step % args.gradient_accumulation_steps == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
