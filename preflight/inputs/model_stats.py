"""Measurements on the user's model at initialization, for the PF4xx rules.

Everything that runs the model runs on a deep copy (``copy.deepcopy``), so the user's parameters,
gradients, buffers and modes are never touched; the caller restores the RNG states
(``preflight.inputs.torch_objects``). What is read from the original without running it: its
train/eval flags and which parameters ``optimizer=`` holds.

* one forward and backward pass of the copy in train mode on the first kept batch: the loss at
  initialization, the share of dead ReLU units, the share of saturated sigmoid/tanh inputs, the
  gradient norm of every parameter (None: no gradient reached it);
* a short overfit run on that batch (Karpathy's "overfit one batch"): ``OVERFIT_STEPS`` Adam steps,
  lr 1e-3, on at most ``OVERFIT_SAMPLES`` samples. Its cost is bounded by counting, not by a clock:
  the multiply-adds of the first forward pass (``nn.Linear`` and ``nn.Conv*`` layers) give the cost
  of a step, and the step count is cut to fit ``OVERFIT_MACS``; fewer than ``MIN_OVERFIT_STEPS`` left
  and the run is not made (said in a note). Same model, same batch: the same steps, the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from preflight.analysis import names
from preflight.inputs.torch_model import LABEL_KEYS, _output_tensor, batch_input, first_line

OVERFIT_STEPS = 100
OVERFIT_SAMPLES = 32
MIN_OVERFIT_STEPS = 30
# 3 x forward multiply-adds x samples x steps (forward and backward) allowed for the overfit run: about
# 2 s on a 2-core CPU (about 1e10 multiply-adds a second in float32)
OVERFIT_MACS = 2e10
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
    macs_per_sample: float = 0.0  # multiply-adds of one forward pass of one sample (Linear and Conv layers)
    output_shape: tuple[int, ...] | None = None
    target_shape: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)
    copy_error: str = ""  # why the model cannot be deep-copied ("" when it can)


def batch_target(batch: Any) -> Any:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[1]
    if isinstance(batch, dict):
        keys = {str(k).lower(): k for k in batch}
        key = next((keys[k] for k in LABEL_KEYS if k in keys), None)
        return batch[key] if key is not None else None
    return None


def output_tensor(out: Any) -> Any:
    return _output_tensor(out)


def call_loss(loss: Any, out: Any, y: Any) -> Any:
    return loss(out, y)


def measure_training(model: Any, loss: Any, loss_kind: str | None, optimizer: Any, batches: list[Any],
                     notes: list[str]) -> TrainingFacts:
    import torch

    facts = static_facts(model, optimizer)
    x, y = batch_input(batches[0]), batch_target(batches[0])
    if x is None or y is None or not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        notes.append("the first batch has no (input, target) tensors; PF401-PF405 and PF307 were not measured")
        return facts
    try:
        twin = copy.deepcopy(model)
    except Exception as exc:
        facts.copy_error = f"the model cannot be copied ({type(exc).__name__}: {first_line(exc)})"
        notes.append(f"{facts.copy_error}; PF401-PF405 and PF307 were not measured")
        return facts
    try:
        with one_thread(), seeded_rng():  # dropout masks: the same numbers whatever the caller's RNG state
            _forward_backward(twin, loss, loss_kind, x, y, facts)
            if facts.init_loss is not None:
                _overfit(copy.deepcopy(model), loss, x[:OVERFIT_SAMPLES], y[:OVERFIT_SAMPLES], facts)
    except Exception as exc:
        notes.append(f"the model or the loss failed on one batch ({type(exc).__name__}: {first_line(exc)}); "
                     "PF401-PF405 were not measured")
    finally:
        del twin
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
    notes.extend(facts.notes)
    return facts


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One torch intra-op thread inside (small steps run several times faster on a shared CPU than with
    threads that wait on each other), the caller's setting again after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded_rng(seed: int = 0) -> Iterator[None]:
    """torch's CPU generator and every initialized CUDA device's forked and seeded ``seed`` inside; NumPy's
    and ``random``'s states kept. Not ``torch.manual_seed``: on a process whose CUDA is not initialized yet
    it queues a seed for every device, which would change the user's CUDA RNG when CUDA starts."""
    import random

    import torch

    py, nps = random.getstate(), np.random.get_state()
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() and torch.cuda.is_initialized() \
        else []
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for d in cuda:
            with torch.cuda.device(d):
                torch.cuda.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py)
            np.random.set_state(nps)


def static_facts(model: Any, optimizer: Any) -> TrainingFacts:
    """What is read from the user's model and optimizer without running them: modes, trainable
    parameters, and the trainable parameters ``optimizer`` does not hold."""
    facts = TrainingFacts(model_training=bool(model.training))
    facts.eval_modules = [n or type(model).__name__ for n, m in model.named_modules()
                          if not m.training and _is_mode_module(m)]
    facts.trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if optimizer is not None and hasattr(optimizer, "param_groups"):
        held = {id(p) for g in optimizer.param_groups for p in g["params"]}
        facts.not_in_optimizer = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in held]
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
    device = _device(twin)
    if device is not None:
        x, y = x.to(device), y.to(device)
    twin.train()
    calls: list[tuple[str, str, Any, Any]] = []
    macs: list[float] = []
    handles = _hook_modules(twin, calls, macs)
    try:
        out = output_tensor(twin(x))
    finally:
        for h in handles:
            h.remove()
    if out is None:
        return
    facts.samples = int(x.shape[0])
    facts.macs_per_sample = sum(macs) / max(1, facts.samples)
    facts.output_shape = tuple(int(v) for v in out.shape)
    facts.target_shape = tuple(int(v) for v in y.shape)
    _activation_shares(calls, out, facts)
    facts.classes = _classes(loss_kind, out)
    if _shapes_broadcast_silently(loss_kind, facts.output_shape, facts.target_shape):
        return  # the loss would compare every prediction with every target (PF307): nothing else is meaningful
    _loss_and_gradients(twin, loss, out, y, facts)


def _hook_modules(twin: Any, calls: list[tuple[str, str, Any, Any]], macs: list[float]) -> list[Any]:
    """Forward hooks that record each ReLU/sigmoid/tanh call (into ``calls``) and each Linear/Conv
    layer's multiply-adds (into ``macs``); the caller removes them."""
    import torch.nn as nn

    handles = []
    for name, mod in twin.named_modules():
        per_output = _macs_per_output(mod)
        if per_output:
            handles.append(mod.register_forward_hook(
                lambda m, i, o, k=per_output: macs.append(k * float(o.numel()) if hasattr(o, "numel") else 0.0)))
        kind = "relu" if isinstance(mod, nn.ReLU) else "sigmoid" if isinstance(mod, nn.Sigmoid) else \
            "tanh" if isinstance(mod, nn.Tanh) else None
        if kind is not None:
            handles.append(mod.register_forward_hook(
                lambda m, i, o, name=name, kind=kind: calls.append((name, kind, i[0].detach(), o))))
    return handles


def _activation_shares(calls: list[tuple[str, str, Any, Any]], out: Any, facts: TrainingFacts) -> None:
    """Dead ReLU units and saturated sigmoid/tanh inputs of each hidden activation call."""
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


def _loss_and_gradients(twin: Any, loss: Any, out: Any, y: Any, facts: TrainingFacts) -> None:
    import torch

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


def _macs_per_output(mod: Any) -> float:
    """Multiply-adds per output element of a Linear or Conv layer (0 for any other module)."""
    import torch.nn as nn

    if isinstance(mod, nn.Linear):
        return float(mod.in_features)
    if isinstance(mod, nn.modules.conv._ConvNd):
        return float(mod.in_channels // mod.groups * math.prod(mod.kernel_size))
    return 0.0


def overfit_steps(macs_per_sample: float, samples: int) -> int:
    """The overfit run's step count: ``OVERFIT_STEPS``, cut so that 3 x MACs x samples x steps fits
    ``OVERFIT_MACS`` (deterministic: it depends on the model and the batch, never on the clock)."""
    per_step = 3.0 * macs_per_sample * max(1, samples)
    if per_step <= 0:
        return OVERFIT_STEPS
    return int(min(OVERFIT_STEPS, OVERFIT_MACS // per_step))


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
    budget = overfit_steps(facts.macs_per_sample, int(x.shape[0]))
    if budget < MIN_OVERFIT_STEPS:
        facts.notes.append(f"the model is too large for the overfit-one-batch run ({budget} of {OVERFIT_STEPS} steps "
                           f"fit {OVERFIT_MACS:.0e} multiply-adds); PF402 was not measured")
        return
    opt = torch.optim.Adam(params, lr=1e-3)
    first = best = math.inf
    steps = 0
    for steps in range(1, budget + 1):
        opt.zero_grad(set_to_none=True)
        value = call_loss(loss, output_tensor(twin(x)), y)
        v = float(value.detach())
        first = v if steps == 1 else first
        best = min(best, v)
        if not value.requires_grad:
            break
        value.backward()
        opt.step()
    facts.overfit = (first, best, steps)
