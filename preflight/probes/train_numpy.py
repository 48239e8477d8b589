"""The batched trainer in NumPy: ``preflight.probes.train.fit``'s models, numbers and results, without torch.

The reference probe trains tiny MLPs (tens of units, batches of 32-64) where the cost of a first run
is ``import torch`` (2-2.5 s here), not the arithmetic. This module trains the same stacked models
with the same float32 arithmetic in NumPy, which the core install already imports:

* the same initial weights, bit for bit: ``torch.rand`` on a generator seeded with ``s`` draws
  Mersenne Twister words from the same state as ``numpy.random.RandomState(s)`` and keeps 24 bits of
  each (``init_weights``; a test compares both);
* the same batches (the plan is NumPy's already), the same forward pass (two batched matmuls and a
  ReLU), gradients written out for each loss the probe trains with, as torch's autograd computes them
  (``binary_cross_entropy``'s backward divides by ``max(x (1 - x), 1e-12)``, which is why a
  saturated sigmoid's gradient is exactly 0 here too);
* the same optimizer updates, operation for operation (Adam as ``torch.optim.Adam`` with its defaults,
  SGD with momentum 0.9 and no dampening).

Matrix products sum in a different order than torch's kernels, so results agree to float32
rounding, not bit for bit; over a probe's 600 steps the curves stay within the tolerance a test
checks on every probe family (``tests/test_trainers.py``). torch remains the trainer for a GPU
(``--probe-device``), for ``trainer = "torch"``, and for anything that trains the user's own model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from preflight.probes.settings import CURVE_POINTS

BETAS = (0.9, 0.999)
EPS = 1e-8
MOMENTUM = 0.9
BCE_EPS = 1e-12  # torch's binary_cross_entropy backward: grad * (x - y) / max((1 - x) * x, 1e-12)
F32 = np.float32


@dataclass
class Fit:
    """Per-model results, models in the order of the plan (as-is seeds, then fixed seeds)."""

    eval_steps: np.ndarray  # (K,) step after which each held-out evaluation ran (0 = before training)
    curves: np.ndarray  # (M, K) held-out loss; the last column is after the last step
    score_curves: np.ndarray  # (M, K) accuracy or balanced accuracy (classification) or R^2, NaN if failed
    first_nonfinite: np.ndarray  # (M,) first step whose training loss was NaN/inf, -1 if none
    steps: int


def init_weights(seed: int, d: int, hidden: int, out: int) -> list[np.ndarray]:
    """``nn.Linear(d, hidden)`` and ``nn.Linear(hidden, out)`` default init, U(+-1/sqrt(fan_in)), drawn
    as ``torch.rand`` draws them from ``torch.Generator().manual_seed(seed)``: the low 24 bits of each
    32-bit Mersenne Twister word, over 2**24 (``RandomState`` seeds the twister the same way)."""
    shapes = [(d, hidden), (1, hidden), (hidden, out), (1, out)]
    bounds = [1.0 / math.sqrt(d), 1.0 / math.sqrt(d), 1.0 / math.sqrt(hidden), 1.0 / math.sqrt(hidden)]
    words = np.random.RandomState(int(seed) & 0xFFFFFFFF).randint(
        0, 2**32, size=sum(a * b for a, b in shapes), dtype=np.uint32)
    uniform = ((words & 0xFFFFFF).astype(np.float64) * 2.0**-24).astype(F32)
    out_weights, at = [], 0
    for shape, bound in zip(shapes, bounds):
        n = shape[0] * shape[1]
        out_weights.append((uniform[at:at + n].reshape(shape) * F32(2) - F32(1)) * F32(bound))
        at += n
    return out_weights


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return F32(1) / (F32(1) + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _onehot(y: np.ndarray, c: int) -> np.ndarray:
    return (y.astype(np.int64)[..., None] == np.arange(c)).astype(F32)


def per_sample_loss(kind: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Loss of each sample, shape (m, B), for output ``z`` (m, B, out) and targets ``y`` (m, B)."""
    if kind == "bce_logits":  # max(z, 0) - z y + log(1 + exp(-|z|))
        x = z[..., 0]
        return np.maximum(x, F32(0)) - x * y + np.log1p(np.exp(-np.abs(x)))
    if kind == "mse":
        return (z[..., 0] - y) ** 2
    if kind == "sigmoid_bce":  # BCELoss on the sigmoid: each log clamped at -100
        s = _sigmoid(z[..., 0])
        return (y - F32(1)) * np.maximum(np.log1p(-s), F32(-100)) - y * np.maximum(np.log(s), F32(-100))
    onehot = _onehot(y, z.shape[-1])
    if kind == "ce_logits":
        return -(_log_softmax(z) * onehot).sum(-1)
    if kind == "softmax_ce":  # CrossEntropyLoss on probabilities: a second softmax
        return -(_log_softmax(_softmax(z)) * onehot).sum(-1)
    if kind == "softmax_nll":  # NLLLoss on probabilities: minus the probability of the class
        return -(_softmax(z) * onehot).sum(-1)
    raise ValueError(f"unknown loss {kind!r}")


def loss_grad(kind: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d(per-sample loss)/dz, shape of ``z``: what autograd gives for ``per_sample_loss``."""
    if kind == "bce_logits":
        return (_sigmoid(z[..., 0]) - y)[..., None]
    if kind == "mse":
        return (F32(2) * (z[..., 0] - y))[..., None]
    if kind == "sigmoid_bce":
        s = _sigmoid(z[..., 0])
        ds = (s - y) / np.maximum((F32(1) - s) * s, F32(BCE_EPS))
        return (ds * (s * (F32(1) - s)))[..., None]
    onehot = _onehot(y, z.shape[-1])
    if kind == "ce_logits":
        return _softmax(z) - onehot
    p = _softmax(z)
    if kind == "softmax_ce":
        dp = _softmax(p) - onehot
    elif kind == "softmax_nll":
        dp = -onehot
    else:
        raise ValueError(f"unknown loss {kind!r}")
    return p * (dp - (dp * p).sum(-1, keepdims=True))  # the softmax's backward


def fit(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
        plan: np.ndarray, variant: Sequence[int], seeds: Sequence[int], losses: Sequence[str],
        eval_loss: str, task: str, n_out: int, hidden: int, lr: float,
        device: str = "cpu", curve_points: int = CURVE_POINTS,
        eval_at: Sequence[int] | None = None, lrs: Sequence[float] | None = None,
        optimizers: Sequence[str] | None = None, weights: np.ndarray | None = None,
        metric: str = "accuracy") -> Fit:
    """``preflight.probes.train.fit`` in NumPy (same arguments, same results to float32 rounding);
    ``device`` must be "cpu"."""
    if device != "cpu":
        raise ValueError(f"the NumPy trainer runs on the CPU only, not {device!r}")
    steps, n_models, _ = plan.shape
    d = X_train.shape[2]
    vid = np.asarray(variant, dtype=np.int64)
    Xtr = np.asarray(X_train, dtype=F32)
    ytr = np.asarray(y_train, dtype=F32)
    Xte = np.asarray(X_test, dtype=F32)[vid]  # (M, Nt, D)
    yte = np.broadcast_to(np.asarray(y_test, dtype=F32), (n_models, len(y_test)))
    wtr = None if weights is None else np.asarray(weights, dtype=F32)

    inits = [init_weights(s, d, hidden, n_out) for s in seeds]
    params = [np.stack([w[i] for w in inits]) for i in range(4)]
    opt = _Panel(params, list(optimizers) if optimizers is not None else ["adam"] * n_models,
                 list(lrs) if lrs is not None else [lr] * n_models)
    groups = _groups(variant, losses)

    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W1, B1, W2, B2 = params
        h = np.maximum(np.matmul(x, W1) + B1, F32(0))
        return h, np.matmul(h, W2) + B2

    if eval_at is None:
        every = max(1, steps // max(1, curve_points))
        eval_at = list(range(every, steps, every))
    eval_steps = sorted({0, steps, *(int(s) for s in eval_at if 0 < s <= steps)})
    curves = np.empty((n_models, len(eval_steps)), dtype=F32)
    scores = np.empty((n_models, len(eval_steps)))
    train_loss = np.empty((steps, n_models), dtype=F32)

    def evaluate(k: int) -> None:
        z = forward(Xte)[1]
        curves[:, k] = per_sample_loss(eval_loss, z, yte).mean(1, dtype=F32)
        scores[:, k] = score(task, z, yte, metric)

    with np.errstate(all="ignore"):  # a diverging run's inf/NaN is measured, not warned about
        k = 0
        evaluate(k)
        k += 1
        for step in range(steps):
            idx = plan[step]  # (M, B)
            x = Xtr[vid[:, None], idx]
            h, z = forward(x)
            yb = ytr[idx]
            wb = None if wtr is None else wtr[vid[:, None], idx]
            train_loss[step], dz = _loss_and_grad(groups, z, yb, wb)
            W2 = params[2]
            da = np.matmul(dz, W2.transpose(0, 2, 1)) * (h > 0)
            grads = [np.matmul(x.transpose(0, 2, 1), da), da.sum(1, keepdims=True, dtype=F32),
                     np.matmul(h.transpose(0, 2, 1), dz), dz.sum(1, keepdims=True, dtype=F32)]
            opt.step(grads, step + 1)
            if k < len(eval_steps) and eval_steps[k] == step + 1:
                evaluate(k)
                k += 1

    bad = ~np.isfinite(train_loss)
    first = np.where(bad.any(0), bad.argmax(0) + 1, -1)
    return Fit(eval_steps=np.asarray(eval_steps), curves=curves.astype(np.float64), score_curves=scores,
               first_nonfinite=first.astype(np.int64), steps=steps)


class _Panel:
    """``preflight.probes.train._Panel`` in NumPy: each model's Adam or SGD-with-momentum update at its
    own rate (the other update's rate 0), in torch's order of float32 operations."""

    def __init__(self, params: list[np.ndarray], optimizers: Sequence[str], lrs: Sequence[float]) -> None:
        self.params = params
        self.lr_adam = np.array([r if o == "adam" else 0.0 for r, o in zip(lrs, optimizers)], dtype=F32)
        self.lr_sgd = np.array([r if o == "sgd" else 0.0 for r, o in zip(lrs, optimizers)], dtype=F32)
        self.use_sgd = bool((self.lr_sgd > 0).any())
        self.m1 = [np.zeros_like(p) for p in params]
        self.m2 = [np.zeros_like(p) for p in params]
        self.buf = [np.zeros_like(p) for p in params]

    def step(self, grads: Sequence[np.ndarray], t: int) -> None:
        b1, b2 = BETAS
        c1, c2 = 1 - b1**t, 1 - b2**t
        for p, g, ma, va, mb in zip(self.params, grads, self.m1, self.m2, self.buf):
            shape = (-1,) + (1,) * (p.ndim - 1)
            ma *= F32(b1)
            ma += g * F32(1 - b1)
            va *= F32(b2)
            va += g * g * F32(1 - b2)
            denom = np.sqrt(va) / F32(math.sqrt(c2)) + F32(EPS)
            p -= ma / denom * (self.lr_adam.reshape(shape) / F32(c1))
            if self.use_sgd:
                mb *= F32(MOMENTUM)
                mb += g
                p -= mb * self.lr_sgd.reshape(shape)


def _loss_and_grad(groups: list[tuple[str, slice]], z: np.ndarray, yb: np.ndarray,
                   wb: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each model's training loss on its batch (the mean, or the ``wb``-weighted mean, of the per-sample
    loss) and its gradient with respect to the output ``z``."""
    losses, grads = [], []
    for kind, sl in groups:
        per = per_sample_loss(kind, z[sl], yb[sl])
        g = loss_grad(kind, z[sl], yb[sl])
        if wb is None:
            losses.append(per.mean(1, dtype=F32))
            grads.append(g / F32(per.shape[1]))
        else:
            total = wb[sl].sum(1, keepdims=True, dtype=F32)
            losses.append((per * wb[sl]).sum(1, dtype=F32) / total[:, 0])
            grads.append(g * (wb[sl] / total)[..., None])
    return np.concatenate(losses), np.concatenate(grads)


def _groups(variant: Sequence[int], losses: Sequence[str]) -> list[tuple[str, slice]]:
    """Contiguous runs of models sharing a training loss (models are grouped by variant)."""
    out: list[tuple[str, slice]] = []
    start = 0
    for i in range(1, len(variant) + 1):
        if i == len(variant) or variant[i] != variant[start]:
            out.append((losses[variant[start]], slice(start, i)))
            start = i
    return out


def score(task: str, z: np.ndarray, y: np.ndarray, metric: str = "accuracy") -> np.ndarray:
    """Per model: accuracy or balanced accuracy for classes, R^2 for regression; NaN where the output
    is not finite."""
    finite = np.isfinite(z).all(axis=(1, 2))
    if task == "regression":
        resid = ((z[..., 0] - y) ** 2).sum(1, dtype=F32)
        total = ((y - y.mean(1, keepdims=True, dtype=F32)) ** 2).sum(1, dtype=F32)
        s = F32(1) - resid / np.maximum(total, F32(1e-12))
    else:
        pred = (z[..., 0] > 0).astype(F32) if z.shape[-1] == 1 else z.argmax(-1).astype(F32)
        right = (pred == y).astype(F32)
        if metric == "balanced_accuracy":  # the mean over the classes present of each class's recall
            classes = np.unique(y)
            members = y[None] == classes[:, None, None]  # (C, M, Nt)
            recalls = (right[None] * members).sum(2, dtype=F32) / np.maximum(members.sum(2), 1).astype(F32)
            present = members.any(2).astype(F32)
            s = (recalls * present).sum(0, dtype=F32) / np.maximum(present.sum(0, dtype=F32), F32(1))
        else:
            s = right.mean(1, dtype=F32)
    return np.where(finite, s, np.nan).astype(np.float64)
