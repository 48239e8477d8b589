"""Measurements on the user's model at initialization, for the PF4xx rules.

Everything that runs the model runs on a deep copy (``copy.deepcopy``), so the user's parameters,
gradients, buffers and modes are never touched; the caller restores the RNG states
(``preflight.inputs.torch_objects``). What is read from the original without running it: its
train/eval flags and which parameters ``optimizer=`` holds.

* one forward and backward pass of the copy in train mode on the first kept batch: the loss at
  initialization, the share of dead ReLU units, the share of saturated sigmoid/tanh inputs, the
  gradient norm of every parameter (None: no gradient reached it);
* a short overfit run on that batch (Karpathy's "overfit one batch"): ``OVERFIT_STEPS`` Adam steps,
  lr 1e-3, on at most ``OVERFIT_SAMPLES`` samples.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from preflight.analysis import names
from preflight.inputs.torch_model import batch_input, first_line

OVERFIT_STEPS = 100
OVERFIT_SAMPLES = 32
OVERFIT_SECONDS = 30.0  # a safety cap on the overfit run (noted when hit); the step count, not time, decides
SATURATION_Z = 5.0  # |pre-activation| beyond this: sigmoid'(5) = 0.0066, tanh'(5) = 1.8e-4


@dataclass
class TrainingFacts:
    samples: int = 0
    init_loss: float | None = None
    classes: int | None = None  # K of a classification loss (output width, or 2 for a single logit)
    relu: list[tuple[str, float, int]] = field(default_factory=list)  # module, dead share, units
    saturated: list[tuple[str, str, float, int]] = field(default_factory=list)  # module, kind, share, units
    grads: list[tuple[str, float | None]] = field(default_factory=list)  # parameter, gradient norm (None: none)
    trainable: list[str] = field(default_factory=list)
    not_in_optimizer: list[str] = field(default_factory=list)
    eval_modules: list[str] = field(default_factory=list)  # dropout / batch norm modules in eval mode
    model_training: bool = True
    overfit: tuple[float, float, int] | None = None  # initial loss, lowest loss, steps
    output_shape: tuple[int, ...] | None = None
    target_shape: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)


def batch_target(batch: Any) -> Any:
    from preflight.inputs.torch_objects import LABEL_KEYS

    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[1]
    if isinstance(batch, dict):
        keys = {str(k).lower(): k for k in batch}
        key = next((keys[k] for k in LABEL_KEYS if k in keys), None)
        return batch[key] if key is not None else None
    return None


def output_tensor(out: Any) -> Any:
    from preflight.inputs.torch_model import _output_tensor

    return _output_tensor(out)


def call_loss(loss: Any, out: Any, y: Any) -> Any:
    return loss(out, y)


def measure_training(model: Any, loss: Any, loss_kind: str | None, optimizer: Any, batches: list[Any],
                     notes: list[str]) -> TrainingFacts:
    import torch

    facts = TrainingFacts(model_training=bool(model.training))
    facts.eval_modules = [n or type(model).__name__ for n, m in model.named_modules()
                          if not m.training and _is_mode_module(m)]
    facts.trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if optimizer is not None and hasattr(optimizer, "param_groups"):
        held = {id(p) for g in optimizer.param_groups for p in g["params"]}
        facts.not_in_optimizer = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in held]
    x, y = batch_input(batches[0]), batch_target(batches[0])
    if x is None or y is None or not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        notes.append("the first batch has no (input, target) tensors; PF401-PF405 and PF307 were not measured")
        return facts
    try:
        twin = copy.deepcopy(model)
    except Exception as exc:
        notes.append(f"the model cannot be copied ({type(exc).__name__}: {first_line(exc)}); "
                     "PF401-PF405 and PF307 were not measured")
        return facts
    try:
        _forward_backward(twin, loss, loss_kind, x, y, facts)
        if facts.init_loss is not None:
            _overfit(copy.deepcopy(model), loss, x[:OVERFIT_SAMPLES], y[:OVERFIT_SAMPLES], facts)
    except Exception as exc:
        notes.append(f"the model or the loss failed on one batch ({type(exc).__name__}: {first_line(exc)}); "
                     "PF401-PF405 were not measured")
    finally:
        del twin
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    notes.extend(facts.notes)
    return facts


def _is_mode_module(m: Any) -> bool:
    import torch.nn as nn

    return isinstance(m, (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm))


def _device(model: Any) -> Any:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return None


def _forward_backward(twin: Any, loss: Any, loss_kind: str | None, x: Any, y: Any, facts: TrainingFacts) -> None:
    import torch
    import torch.nn as nn

    device = _device(twin)
    if device is not None:
        x, y = x.to(device), y.to(device)
    twin.train()
    calls: list[tuple[str, str, Any, Any]] = []
    handles = []
    for name, mod in twin.named_modules():
        kind = "relu" if isinstance(mod, nn.ReLU) else "sigmoid" if isinstance(mod, nn.Sigmoid) else \
            "tanh" if isinstance(mod, nn.Tanh) else None
        if kind is not None:
            handles.append(mod.register_forward_hook(
                lambda m, i, o, name=name, kind=kind: calls.append((name, kind, i[0].detach(), o))))
    try:
        out = output_tensor(twin(x))
    finally:
        for h in handles:
            h.remove()
    if out is None:
        return
    facts.samples = int(x.shape[0])
    facts.output_shape = tuple(int(v) for v in out.shape)
    facts.target_shape = tuple(int(v) for v in y.shape)
    for name, kind, inp, o in calls:
        if o is out:
            continue  # the output activation is PF301-PF305's
        units = int(o.shape[1]) if o.ndim >= 2 else 1
        if kind == "relu":
            flat = o.detach().transpose(0, 1).reshape(units, -1) if o.ndim >= 2 else o.detach().reshape(1, -1)
            dead = float(((flat > 0).sum(dim=1) == 0).float().mean())
            facts.relu.append((name, dead, units))
        else:
            share = float((inp.abs() > SATURATION_Z).float().mean())
            facts.saturated.append((name, kind, share, units))
    facts.classes = _classes(loss_kind, out)
    if _shapes_broadcast_silently(loss_kind, facts.output_shape, facts.target_shape):
        return  # the loss would compare every prediction with every target (PF307): nothing else is meaningful
    value = call_loss(loss, out, y)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        return
    facts.init_loss = float(value.detach())
    if not math.isfinite(facts.init_loss) or not value.requires_grad:
        if not value.requires_grad:
            facts.notes.append("the loss does not require grad (a detached output?)")
        return
    twin.zero_grad(set_to_none=True)
    value.backward()
    for n, p in twin.named_parameters():
        if p.requires_grad:
            facts.grads.append((n, None if p.grad is None else float(p.grad.detach().norm())))


def _shapes_broadcast_silently(loss_kind: str | None, out: tuple[int, ...] | None, target: tuple[int, ...] | None
                               ) -> bool:
    if out is None or target is None or loss_kind in (names.CE, names.NLL):
        return False
    return out != target and broadcast_shape(out, target) not in (None, out)


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape ``a`` and ``b`` broadcast to (NumPy's rule), or None when they do not."""
    try:
        return tuple(int(v) for v in np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _classes(loss_kind: str | None, out: Any) -> int | None:
    if loss_kind in (names.CE, names.NLL) and out.ndim >= 2:
        return int(out.shape[1])
    if loss_kind in (names.BCE, names.BCE_LOGITS):
        return 2
    return None


def _overfit(twin: Any, loss: Any, x: Any, y: Any, facts: TrainingFacts) -> None:
    import torch

    device = _device(twin)
    if device is not None:
        x, y = x.to(device), y.to(device)
    twin.train()
    params = [p for p in twin.parameters() if p.requires_grad]
    if not params:
        facts.overfit = (float(facts.init_loss or 0.0), float(facts.init_loss or 0.0), 0)
        return
    opt = torch.optim.Adam(params, lr=1e-3)
    first = best = math.inf
    started = time.perf_counter()
    steps = 0
    for steps in range(1, OVERFIT_STEPS + 1):
        opt.zero_grad(set_to_none=True)
        value = call_loss(loss, output_tensor(twin(x)), y)
        v = float(value.detach())
        first = v if steps == 1 else first
        best = min(best, v)
        if not value.requires_grad:
            break
        value.backward()
        opt.step()
        if time.perf_counter() - started > OVERFIT_SECONDS:
            facts.notes.append(f"the overfit-one-batch run stopped after {steps} steps ({OVERFIT_SECONDS:g} s)")
            break
    facts.overfit = (first, best, steps)
