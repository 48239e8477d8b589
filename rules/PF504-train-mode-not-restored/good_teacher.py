"""A frozen teacher in eval mode while the student trains (distillation)."""
import torch
import torch.nn.functional as F


def distill(student, teacher, loader, epochs=3):
    opt = torch.optim.SGD(student.parameters(), lr=0.01)
    for epoch in range(epochs):
        teacher.eval()
        for x, _ in loader:
            with torch.no_grad():
                target = teacher(x).softmax(1)
            opt.zero_grad()
            F.kl_div(student(x).log_softmax(1), target, reduction="batchmean").backward()
            opt.step()
