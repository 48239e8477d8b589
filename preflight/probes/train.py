"""The batched trainer: every seed of both variants trained at once as one stacked model.

Model ``m`` is a 2-layer MLP ``D -> hidden (ReLU) -> n_out`` whose weights are slice ``m`` of
stacked tensors; a step is two ``torch.baddbmm`` calls forward, one ``autograd.grad`` backward and a
plain-tensor optimizer update for all models together. The caller orders the models (as-is models
first, then fixed ones; within each, the panel's setups, and within those the seeds); a model's
initial weights depend on its seed only (``nn.Linear``'s default initialisation, drawn from a
generator seeded by the seed), so the two variants of a seed, in every setup, start alike.

Each model has its own optimizer (``"adam"`` or ``"sgd"``) and learning rate: both updates are
computed for the whole stack and each model takes its own, the other's rate being 0. Adam is written
out (same formula as ``torch.optim.Adam`` with its defaults), SGD with momentum as ``torch.optim.SGD``
(``buf = momentum * buf + grad``, no dampening): the first ``torch.optim`` optimizer of a process
imports ``torch._dynamo``, which costs more than the probe.

Importing this module imports torch. On the CPU the probe trains with ``preflight.probes.train_numpy``
instead (the same models and numbers, without the import); this trainer runs for a GPU and for
``trainer = "torch"``, and is the reference the NumPy one is tested against.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from preflight.probes import train_numpy
from preflight.probes.settings import CURVE_POINTS
from preflight.probes.train_numpy import Fit, _groups

BETAS = (0.9, 0.999)
EPS = 1e-8
MOMENTUM = 0.9


def per_sample_loss(kind: str, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Loss of each sample, shape (m, B), for output ``z`` (m, B, out) and targets ``y`` (m, B)."""
    if kind == "bce_logits":
        return F.binary_cross_entropy_with_logits(z[..., 0], y, reduction="none")
    if kind == "mse":
        return (z[..., 0] - y) ** 2
    if kind == "sigmoid_bce":  # BCELoss on sigmoid output: log clamped at -100, saturates in float32
        return F.binary_cross_entropy(torch.sigmoid(z[..., 0]), y, reduction="none")
    m, b, c = z.shape
    target = y.long().reshape(-1)
    if kind == "ce_logits":
        flat = F.cross_entropy(z.reshape(-1, c), target, reduction="none")
    elif kind == "softmax_ce":  # CrossEntropyLoss applied to probabilities: a second softmax
        flat = F.cross_entropy(torch.softmax(z, -1).reshape(-1, c), target, reduction="none")
    elif kind == "softmax_nll":  # NLLLoss applied to probabilities instead of log-probabilities
        flat = F.nll_loss(torch.softmax(z, -1).reshape(-1, c), target, reduction="none")
    else:
        raise ValueError(f"unknown loss {kind!r}")
    return flat.reshape(m, b)


def init_weights(seed: int, d: int, hidden: int, out: int) -> list[torch.Tensor]:
    """``nn.Linear(d, hidden)`` and ``nn.Linear(hidden, out)`` default init, U(+-1/sqrt(fan_in)), as
    ``torch.rand`` on ``torch.Generator().manual_seed(seed)`` draws it: the NumPy trainer's weights,
    which are those draws bit for bit (``tests/test_trainers.py``), so both trainers start alike."""
    return [torch.from_numpy(w) for w in train_numpy.init_weights(seed, d, hidden, out)]


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Use ``n`` intra-op threads inside, the caller's setting again after."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pick_threads(models: int, batch: int, d: int, hidden: int) -> int:
    """One thread for small steps (thread start-up costs more than it saves), more for wide ones."""
    work = models * batch * (d + 1) * hidden
    if work < 4_000_000:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def fit(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
        plan: np.ndarray, variant: Sequence[int], seeds: Sequence[int], losses: Sequence[str],
        eval_loss: str, task: str, n_out: int, hidden: int, lr: float,
        device: str = "cpu", curve_points: int = CURVE_POINTS,
        eval_at: Sequence[int] | None = None, lrs: Sequence[float] | None = None,
        optimizers: Sequence[str] | None = None, weights: np.ndarray | None = None,
        metric: str = "accuracy") -> Fit:
    """Train ``M = plan.shape[1]`` models at once.

    ``X_train`` (V, N, D) and ``X_test`` (V, Nt, D) hold each variant's features; model ``m`` reads
    variant ``variant[m]``, starts from ``init_weights(seeds[m])``, trains with loss
    ``losses[variant[m]]`` on the rows ``plan[:, m]`` (steps, M, B) and is evaluated with
    ``eval_loss`` on its variant's held-out rows before training, after each step in ``eval_at``
    (default: ``curve_points`` evenly spaced) and after the last step.

    ``lrs`` / ``optimizers``: each model's learning rate and optimizer (default: ``lr``, Adam).
    ``weights`` (V, N): each variant's weight of each training row (the weighted mean of the
    per-sample loss, as ``CrossEntropyLoss(weight=...)`` takes it); default all 1. ``metric``:
    "accuracy" or "balanced_accuracy" for classes (the mean of per-class recalls); R^2 for regression.
    """
    steps, n_models, batch = plan.shape
    d = X_train.shape[2]
    dev = torch.device(device)
    vid = torch.as_tensor(np.asarray(variant), dtype=torch.long, device=dev)
    Xtr = torch.as_tensor(X_train, dtype=torch.float32, device=dev)
    ytr = torch.as_tensor(y_train, dtype=torch.float32, device=dev)
    Xte = torch.as_tensor(X_test, dtype=torch.float32, device=dev)[vid]  # (M, Nt, D)
    yte = torch.as_tensor(y_test, dtype=torch.float32, device=dev).expand(n_models, -1)
    rows = torch.as_tensor(plan, dtype=torch.long, device=dev)
    wtr = None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=dev)

    inits = [init_weights(s, d, hidden, n_out) for s in seeds]
    params = [torch.stack([w[i] for w in inits]).to(dev).requires_grad_() for i in range(4)]
    W1, B1, W2, B2 = params
    opt = _Panel(params, list(optimizers) if optimizers is not None else ["adam"] * n_models,
                 list(lrs) if lrs is not None else [lr] * n_models, dev)
    groups = _groups(variant, losses)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(B2, torch.relu(torch.baddbmm(B1, x, W1)), W2)

    if eval_at is None:
        every = max(1, steps // max(1, curve_points))
        eval_at = list(range(every, steps, every))
    eval_steps = sorted({0, steps, *(int(s) for s in eval_at if 0 < s <= steps)})
    curves = torch.empty(n_models, len(eval_steps))
    scores = np.empty((n_models, len(eval_steps)))
    train_loss = torch.empty(steps, n_models)

    def evaluate(k: int) -> None:
        with torch.no_grad():
            z = forward(Xte)
            curves[:, k] = per_sample_loss(eval_loss, z, yte).mean(1).cpu()
            scores[:, k] = _score(task, z, yte, metric)

    with threads(pick_threads(n_models, batch, d, hidden)):
        k = 0
        evaluate(k)
        k += 1
        for step in range(steps):
            idx = rows[step]  # (M, B)
            z = forward(Xtr[vid[:, None], idx])
            per_model = _train_loss(groups, z, ytr[idx], None if wtr is None else wtr[vid[:, None], idx])
            grads = torch.autograd.grad(per_model.sum(), params)
            t = step + 1
            with torch.no_grad():
                train_loss[step] = per_model.cpu()
                opt.step(grads, t)
            if k < len(eval_steps) and eval_steps[k] == t:
                evaluate(k)
                k += 1

    bad = ~torch.isfinite(train_loss)
    first = torch.where(bad.any(0), bad.float().argmax(0) + 1, torch.full((n_models,), -1)).numpy()
    return Fit(eval_steps=np.asarray(eval_steps), curves=curves.numpy().astype(np.float64), score_curves=scores,
               first_nonfinite=first.astype(np.int64), steps=steps)


class _Panel:
    """Each model's own optimizer on the stacked parameters: Adam where ``optimizers[m]`` is "adam",
    SGD with momentum where it is "sgd", each at its own rate (the other update's rate is 0)."""

    def __init__(self, params: list[torch.Tensor], optimizers: Sequence[str], lrs: Sequence[float],
                 dev: torch.device) -> None:
        self.params = params
        self.lr_adam = torch.tensor([r if o == "adam" else 0.0 for r, o in zip(lrs, optimizers)], device=dev)
        self.lr_sgd = torch.tensor([r if o == "sgd" else 0.0 for r, o in zip(lrs, optimizers)], device=dev)
        self.use_sgd = bool((self.lr_sgd > 0).any())
        self.m1 = [torch.zeros_like(p) for p in params]
        self.m2 = [torch.zeros_like(p) for p in params]
        self.buf = [torch.zeros_like(p) for p in params]

    def step(self, grads: Sequence[torch.Tensor], t: int) -> None:
        """Update every parameter in place after step ``t`` (1-based); call under ``no_grad``."""
        b1, b2 = BETAS
        c1, c2 = 1 - b1**t, 1 - b2**t
        for p, g, ma, va, mb in zip(self.params, grads, self.m1, self.m2, self.buf):
            shape = (-1,) + (1,) * (p.dim() - 1)
            ma.mul_(b1).add_(g, alpha=1 - b1)
            va.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (va.sqrt() / math.sqrt(c2)).add_(EPS)
            p.sub_(ma / denom * (self.lr_adam.view(shape) / c1))
            if self.use_sgd:
                mb.mul_(MOMENTUM).add_(g)
                p.sub_(mb * self.lr_sgd.view(shape))


def _train_loss(groups: list[tuple[str, slice]], z: torch.Tensor, yb: torch.Tensor,
                wb: torch.Tensor | None) -> torch.Tensor:
    """Each model's training loss on its batch: the mean per-sample loss, or the ``wb``-weighted mean."""
    if wb is None:
        return torch.cat([per_sample_loss(kind, z[sl], yb[sl]).mean(1) for kind, sl in groups])
    return torch.cat([(per_sample_loss(kind, z[sl], yb[sl]) * wb[sl]).sum(1) / wb[sl].sum(1) for kind, sl in groups])


def _score(task: str, z: torch.Tensor, y: torch.Tensor, metric: str = "accuracy") -> np.ndarray:
    finite = torch.isfinite(z).all(dim=2).all(dim=1)
    if task == "regression":
        resid = ((z[..., 0] - y) ** 2).sum(1)
        total = ((y - y.mean(1, keepdim=True)) ** 2).sum(1)
        s = 1 - resid / total.clamp_min(1e-12)
    else:
        pred = (z[..., 0] > 0).float() if z.shape[-1] == 1 else z.argmax(-1).float()
        right = (pred == y).float()
        if metric == "balanced_accuracy":  # the mean over the classes present of each class's recall
            classes = torch.unique(y)
            recalls = torch.stack([(right * (y == c)).sum(1) / (y == c).sum(1).clamp_min(1) for c in classes])
            present = torch.stack([(y == c).any(1) for c in classes]).float()
            s = (recalls * present).sum(0) / present.sum(0).clamp_min(1)
        else:
            s = right.mean(1)
    s = torch.where(finite, s, torch.full_like(s, float("nan")))
    return s.cpu().numpy().astype(np.float64)
