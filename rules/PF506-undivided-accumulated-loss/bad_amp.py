import torch
import torch.nn.functional as F


def train(model, loader, optimizer, args):
    scaler = torch.cuda.amp.GradScaler()
    for step, batch in enumerate(loader):
        with torch.autocast("cuda"):
            loss = F.cross_entropy(model(batch["x"]), batch["y"])
        scaler.scale(loss).backward()
        if step % args.gradient_accumulation_steps == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
