"""The probe on the user's own model: deep copies of it trained on the batches the loader gave, as-is
and with the rule's fix, from the same initial weights, judged like the reference probe.

Given ``model=`` and ``loss=`` (``LiveRun``, ``preflight.inputs.batches``), a finding of the scale,
order or output family is probed here instead of on the reference MLP:

* scale (PF101, PF102): a ``Normalize`` module in front of the copy, with the measured per-feature or
  per-channel mean and std (the layout the batch statistics detected);
* order (PF201, PF203, PF204): mini-batches in the loader's order against reshuffled every epoch,
  whole epochs;
* output (PF301-PF303): the copy's last module (the activation, when the model is an ``nn.Sequential``
  ending in it) removed and the stable loss (``BCEWithLogitsLoss`` / ``CrossEntropyLoss``) used;
  both variants are evaluated by the proper negative log-likelihood of their probabilities.

A fifth of the samples read (drawn with a fixed seed) is held out; the rest trains in loader order.
The optimizer is a fresh one of ``optimizer=``'s class with its param groups' hyperparameters for each
copy, else Adam lr 1e-3 (the evidence says which). The cost is bounded by counting, not by the clock:
the multiply-adds of one forward pass (``TrainingFacts.macs_per_sample``) and ``MACS_PER_SECOND`` give
the step count that fits ``ProbeSettings.budget``, so the same input gives the same numbers. Training
runs on the model's device, one torch thread, torch's generators forked and seeded 0
(``model_stats.seeded_rng``); the user's model and optimizer are only read (copied). A model that
cannot be copied, a budget too small, a fix that cannot be applied to the user's model: the caller
falls back to the reference probe, and the reason is noted.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from preflight.checks.fixes import Fix
from preflight.findings import Evidence
from preflight.inputs.model_stats import batch_target, one_thread, seeded_rng
from preflight.inputs.torch_model import batch_input, first_line
from preflight.probes.evidence import build_evidence
from preflight.probes.settings import ProbeSettings

# The cost model (bench/live.py prints predicted against measured): seconds = steps x (STEP_OVERHEAD +
# 2 copies x 3 x forward multiply-adds x batch / MACS_PER_SECOND) + evaluations x 2 x multiply-adds x
# held-out samples / MACS_PER_SECOND. One torch thread, a shared 2-core x86 CPU: a small CNN on 3x32x32
# trained at 7.5e9 multiply-adds a second and a tiny one took 1 ms a step; the constants err slow.
MACS_PER_SECOND = 4e9
STEP_OVERHEAD = 2e-3  # seconds per step of the two copies, whatever their size
USER_STEPS = 300  # steps wanted (order: the whole epochs nearest this)
MIN_USER_STEPS = 20
MIN_EPOCHS = 3  # the order probe thins its training samples until this many whole epochs fit
EVAL_POINTS = 6  # held-out evaluations along training, plus step 0
HELDOUT_SHARE = 0.2
MAX_HELDOUT = 256
MIN_TRAIN = 32
MIN_HELDOUT = 8
FAMILIES = ("scale", "order", "output:sigmoid_bce", "output:softmax_ce", "output:softmax_nll")


class Fallback(Exception):
    """The user-model probe cannot run; the message says why (the caller falls back)."""


def wanted(fix: Fix, live: Any) -> bool:
    """True when ``fix`` is probed on the user's model of ``live`` (a ``LiveRun``, or None)."""
    return (live is not None and live.model is not None and live.loss is not None and bool(live.batches)
            and fix.family in FAMILIES)


def user_probe(rule: Any, fix: Fix, subject: Any, settings: ProbeSettings, findings: Sequence[Any],
               reference: Callable[..., Evidence]) -> tuple[Evidence | None, str]:
    """The evidence for ``rule``'s ``findings`` on a live subject: on the user's model when it is given
    (``wanted``), else, or when that cannot run, the reference MLP trained on the batches' own features
    (2-D batches only; ``reference`` is ``preflight.probes.run.probe_arrays``), with the reason in a
    note. (None, "") for a subject that is not live, and (None, why) when neither can run: the caller's
    recorded evidence then carries the reason."""
    live = getattr(subject, "live", None)
    if live is None:
        return None, ""
    why = ""
    if wanted(fix, live):
        try:
            return user_evidence(rule.code, fix, live, settings), ""
        except Fallback as exc:
            why = str(exc)
    elif live.model is None or live.loss is None:
        why = "no model= and loss= given"
    else:
        return None, ""
    if fix.family.startswith("output:"):  # the reference MLP's output is not the user's: recorded evidence
        return None, why
    try:
        ev = _reference_on_batches(rule, fix, subject, live, settings, findings, reference)
    except Fallback as exc:
        return None, f"{why}; {exc}" if why else str(exc)
    said = f"the reference MLP on the batches' features, not the user's model: {why}"
    return (replace(ev, reason=f"{ev.reason}; {said}") if ev.skipped else ev.with_notes(said)), ""


def _reference_on_batches(rule: Any, fix: Fix, subject: Any, live: Any, settings: ProbeSettings,
                          findings: Sequence[Any], probe_arrays: Callable[..., Evidence]) -> Evidence:
    if live.layout not in (None, "features") or not live.batches:
        raise Fallback("the reference MLP reads 2-D features, not images or sequences")
    X, Y = _tensors(live.batches)
    x, y = X.detach().cpu().numpy(), Y.detach().cpu().numpy()
    if x.ndim != 2 or y.ndim != 1:
        raise Fallback(f"batches of shape {tuple(x.shape[1:])} with targets {tuple(y.shape[1:])} are not a table")
    task = "regression" if y.dtype.kind == "f" and not (y == np.round(y)).all() else \
        ("binary" if len(np.unique(y)) == 2 else "multiclass")
    names = [c.name for c in getattr(subject, "columns", [])] or [f"feature {i}" for i in range(x.shape[1])]
    flagged = [f.location.column for f in findings if f.location.column]
    columns = rule.probe_columns(subject, flagged) if hasattr(subject, "columns") else ()
    return probe_arrays(x, y, task, rule.code, fix, columns=columns, features=names if len(names) == x.shape[1]
                        else None, settings=settings)


def user_evidence(code: str, fix: Fix, live: Any, settings: ProbeSettings) -> Evidence:
    """The evidence of ``fix`` on the user's model (one training per fix family and live run, shared
    by its findings); raises ``Fallback`` with the reason when it cannot run."""
    memo: dict[str, Any] = live.probes
    if fix.family not in memo:
        try:
            memo[fix.family] = _probe(fix, live, settings)
        except Fallback as exc:
            memo[fix.family] = exc
        except Exception as exc:  # the user's model, loss or optimizer raised on a copy
            memo[fix.family] = Fallback(f"training a copy of the model failed ({type(exc).__name__}: "
                                        f"{first_line(exc)})")
    got = memo[fix.family]
    if isinstance(got, Fallback):
        raise got
    return replace(got, rule=code)


# --- data ----------------------------------------------------------------------------------------

def _tensors(batches: list[Any]) -> tuple[Any, Any]:
    import torch

    xs, ys = [batch_input(b) for b in batches], [batch_target(b) for b in batches]
    if not all(isinstance(v, torch.Tensor) for v in xs + ys):
        raise Fallback("the batches are not (input, target) tensors")
    if len({tuple(x.shape[1:]) for x in xs}) != 1 or len({tuple(y.shape[1:]) for y in ys}) != 1:
        raise Fallback("the batches differ in shape")
    return torch.cat(xs), torch.cat(ys)


def split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(training indices in loader order, held-out indices): a seeded fifth held out, at most
    ``MAX_HELDOUT``."""
    size = min(MAX_HELDOUT, max(MIN_HELDOUT, int(n * HELDOUT_SHARE)))
    held = np.sort(np.random.default_rng(0).permutation(n)[:size])
    train = np.setdiff1d(np.arange(n), held)
    return train, held


def plan(n_train: int, batch: int, steps: int, shuffled: bool, whole_epochs: bool) -> list[np.ndarray]:
    """The index batches of a training: loader order or reshuffled every epoch (seeded)."""
    rng = np.random.default_rng(0)
    out: list[np.ndarray] = []
    while len(out) < steps:
        order = rng.permutation(n_train) if shuffled else np.arange(n_train)
        per = [order[i:i + batch] for i in range(0, n_train - batch + 1, batch)] if whole_epochs else \
            [order[i:i + batch] for i in range(0, n_train, batch)]
        out.extend(per)
    return out[:steps]


def fit_steps(fix: Fix, macs: float, n_train: int, n_test: int, batch: int, budget: float) -> int:
    """The step count: ``USER_STEPS`` (order: whole epochs) cut to fit ``budget`` by the counted cost."""
    def cost(steps: int) -> float:
        train = steps * (STEP_OVERHEAD + 2 * 3 * macs * batch / MACS_PER_SECOND)
        return train + (EVAL_POINTS + 1) * 2 * macs * n_test / MACS_PER_SECOND

    per_epoch = max(1, n_train // batch)
    if fix.whole_epochs:
        epochs = max(1, round(USER_STEPS / per_epoch))
        while epochs > 1 and budget > 0 and cost(epochs * per_epoch) > budget:
            epochs -= 1
        steps = epochs * per_epoch
    else:
        steps = USER_STEPS
        if budget > 0 and cost(steps) > budget:
            steps = int((budget - cost(0)) / (cost(1) - cost(0)))
    if steps < MIN_USER_STEPS or (budget > 0 and cost(steps) > budget):
        raise Fallback(f"the probe budget of {budget:g} s allows under {MIN_USER_STEPS} steps of the user's model "
                       f"({macs:.3g} multiply-adds a sample)")
    return steps


def thinning(fix: Fix, macs: float, n_train: int, n_test: int, batch: int, budget: float) -> int:
    """The stride (1: none) at which the order probe keeps training samples, in loader order (the class
    runs and their mix stay), so that ``MIN_EPOCHS`` whole epochs fit ``budget``; 1 for other fixes."""
    if not fix.whole_epochs or budget <= 0:
        return 1
    per_step = STEP_OVERHEAD + 2 * 3 * macs * batch / MACS_PER_SECOND
    evals = (EVAL_POINTS + 1) * 2 * macs * n_test / MACS_PER_SECOND
    steps = int((budget - evals) / per_step) if budget > evals else 0
    fits = (steps // MIN_EPOCHS) * batch  # samples whose MIN_EPOCHS epochs fit
    if fits >= n_train:
        return 1
    if fits < MIN_TRAIN:
        return 1  # fit_steps says why not
    return -(-n_train // fits)


# --- the two copies --------------------------------------------------------------------------------

def normalizer(layout: str, mean: list[float], std: list[float], ndim: int) -> Any:
    """An ``nn.Module`` that standardizes its input by ``mean``/``std`` along the layout's feature axis."""
    import torch

    shape = [1] * ndim
    axis = 1 if layout in ("nchw", "volume") else ndim - 1
    if layout == "grey":
        axis = 0
    shape[axis] = len(mean)
    m = torch.tensor(mean, dtype=torch.float32).reshape(shape)
    s = torch.tensor([v if v > 0 else 1.0 for v in std], dtype=torch.float32).reshape(shape)

    class Normalize(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", m)
            self.register_buffer("std", s)

        def forward(self, x: Any) -> Any:
            return (x.float() - self.mean) / self.std

    return Normalize()


def _variants(fix: Fix, live: Any, model: Any, ndim: int) -> tuple[Any, Any, Any, Any, str, str]:
    """(as-is model, fixed model, as-is loss, fixed loss, as-is words, fixed words)."""
    import torch

    try:
        a, b = copy.deepcopy(model), copy.deepcopy(model)
    except Exception as exc:
        raise Fallback(f"the model cannot be copied ({type(exc).__name__})") from exc
    device = _device(model)

    def normalized(m: Any) -> Any:
        wrapped = torch.nn.Sequential(normalizer(live.layout or "features", live.mean, live.std, ndim), m)
        return wrapped.to(device) if device is not None else wrapped

    if fix.family == "scale":
        if not live.mean:
            raise Fallback("no feature statistics were measured")
        return a, normalized(b), live.loss, live.loss, "the inputs as the loader gives them", \
            "a Normalize module in front of the model (measured mean/std)"
    if fix.family == "order":  # as the reference probe: inputs normalized in both, so only the order differs
        if live.mean:
            a, b = normalized(a), normalized(b)
        return a, b, live.loss, live.loss, "mini-batches in the loader's order", "mini-batches reshuffled every epoch"
    kind = fix.family.split(":", 1)[1]
    want = torch.nn.Sigmoid if kind.startswith("sigmoid") else torch.nn.Softmax
    at = activation_index(b, want)
    if at is None:
        raise Fallback(f"the model's {want.__name__} is not the last module of an nn.Sequential (shape-only "
                       "modules such as Flatten aside), so a copy cannot drop it")
    stable = torch.nn.BCEWithLogitsLoss() if kind.startswith("sigmoid") else torch.nn.CrossEntropyLoss()
    logits = torch.nn.Sequential(*(m for i, m in enumerate(b) if i != at))
    return a, logits, live.loss, stable, f"the model as given ({want.__name__} output) with the user's loss", \
        f"the {want.__name__} removed, {type(stable).__name__}"


def activation_index(model: Any, kind: type) -> int | None:
    """The index of the ``kind`` module that ends the ``nn.Sequential`` ``model``, followed only by
    shape-only modules (Flatten, Unflatten, Identity); None when there is none."""
    import torch.nn as nn

    if not isinstance(model, nn.Sequential):
        return None
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], kind):
            return i
        if not isinstance(model[i], (nn.Flatten, nn.Unflatten, nn.Identity)):
            return None
    return None


def _optimizer(live: Any, original: Any, copy_model: Any) -> tuple[Any, str]:
    """A fresh optimizer for ``copy_model``: ``optimizer=``'s class and param-group hyperparameters, its
    parameters mapped from ``original``'s by position (a Normalize wrapper or a dropped activation adds or
    removes none); else Adam lr 1e-3."""
    import torch

    opt = live.optimizer
    if opt is None or not hasattr(opt, "param_groups"):
        return torch.optim.Adam([p for p in copy_model.parameters() if p.requires_grad], lr=1e-3), \
            "Adam lr 0.001 (no optimizer= given)"
    index = {id(p): i for i, p in enumerate(original.parameters())}
    theirs = list(copy_model.parameters())
    if len(theirs) != len(index):
        raise Fallback("the copy's parameters do not match the model's")
    groups = [{**{k: v for k, v in g.items() if k != "params"},
               "params": [theirs[index[id(p)]] for p in g["params"] if id(p) in index]} for g in opt.param_groups]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise Fallback("optimizer= holds none of the model's parameters")
    hyper = ", ".join(f"{k} {v:g}" for k, v in opt.defaults.items()
                      if k in ("lr", "weight_decay", "momentum") and isinstance(v, (int, float)))
    return type(opt)(groups), f"a fresh {type(opt).__name__} ({hyper}) per copy, as optimizer="


# --- training ----------------------------------------------------------------------------------------

def _device(model: Any) -> Any:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return None


def proper_loss(kind: str | None, out: Any, y: Any, user_loss: Any, fixed: bool) -> Any:
    """The held-out loss: the user's loss (scale, order), or for the output family the negative
    log-likelihood of the probabilities (the as-is output is already one; the fixed one is a logit)."""
    import torch
    import torch.nn.functional as F

    if kind is None:
        return user_loss(out, y)
    if kind.startswith("sigmoid"):
        p = torch.sigmoid(out) if fixed else out
        return F.binary_cross_entropy(p.clamp(1e-7, 1 - 1e-7), y.float().reshape(p.shape))
    p = torch.softmax(out, dim=1) if fixed else out
    return F.nll_loss(torch.log(p.clamp_min(1e-12)), y.long())


def _train(model: Any, opt: Any, loss: Any, X: Any, Y: Any, batches: list[np.ndarray], held: tuple[Any, Any],
           kind: str | None, fixed: bool) -> tuple[list[int], list[float], list[float], int]:
    import math

    import torch

    from preflight.inputs.model_stats import output_tensor

    every = max(1, len(batches) // EVAL_POINTS)
    eval_at = set(range(every, len(batches) + 1, every)) | {len(batches)}
    steps_at: list[int] = []
    curve: list[float] = []
    score: list[float] = []
    first_bad = -1

    def evaluate(step: int) -> None:
        model.eval()
        with torch.no_grad():
            out = output_tensor(model(held[0]))
            curve.append(float(proper_loss(kind, out, held[1], loss, fixed)))
            ok = out.ndim == 2 and out.shape[1] > 1 and held[1].ndim == 1
            score.append(float((out.argmax(1) == held[1]).float().mean()) if ok else math.nan)
        steps_at.append(step)
        model.train()

    model.train()
    evaluate(0)
    for step, idx in enumerate(batches, 1):
        i = torch.as_tensor(idx)
        opt.zero_grad(set_to_none=True)
        value = loss(output_tensor(model(X[i])), Y[i])
        if not torch.isfinite(value) and first_bad < 0:
            first_bad = step
        value.backward()
        opt.step()
        if step in eval_at:
            evaluate(step)
    return steps_at, curve, score, first_bad


def _probe(fix: Fix, live: Any, settings: ProbeSettings) -> Evidence:
    import torch

    facts = live.facts
    if facts is not None and facts.copy_error:
        raise Fallback(facts.copy_error)
    if facts is None or not facts.macs_per_sample:
        raise Fallback("the model was not measured on a batch (no Linear/Conv layer ran, or the forward failed)")
    X, Y = _tensors(live.batches)
    train, held = split(len(X))
    if len(train) < MIN_TRAIN:
        raise Fallback(f"{len(X)} samples were read, too few to train and hold out")
    batch = max(1, min(int(live.batch_size or 32), len(train)))
    stride = thinning(fix, facts.macs_per_sample, len(train), len(held), batch, settings.budget)
    thinned = len(train)
    train = train[::stride]
    steps = fit_steps(fix, facts.macs_per_sample, len(train), len(held), batch, settings.budget)
    model = live.model
    device = _device(model)
    move = (lambda t: t.to(device)) if device is not None else (lambda t: t)
    Xtr, Ytr = move(X[torch.as_tensor(train)]), move(Y[torch.as_tensor(train)])
    heldout = (move(X[torch.as_tensor(held)]), move(Y[torch.as_tensor(held)]))
    kind = fix.family.split(":", 1)[1] if fix.family.startswith("output:") else None
    t0 = time.perf_counter()
    with seeded_rng(), one_thread():
        a, b, loss_a, loss_b, as_is, fixed = _variants(fix, live, model, X.ndim)
        opt_a, words = _optimizer(live, model, a)
        opt_b, _ = _optimizer(live, model, b)
        order = fix.family == "order"
        plan_a = plan(len(train), batch, steps, shuffled=not order, whole_epochs=order)
        plan_b = plan(len(train), batch, steps, shuffled=True, whole_epochs=order)
        ra = _train(a, opt_a, loss_a, Xtr, Ytr, plan_a, heldout, kind, False)
        rb = _train(b, opt_b, loss_b, Xtr, Ytr, plan_b, heldout, kind, True)
    del a, b, opt_a, opt_b, Xtr, Ytr, heldout
    if device is not None and device.type == "cuda":
        torch.cuda.empty_cache()
    seconds = time.perf_counter() - t0
    notes = [f"the user's model {type(model).__name__}: two deep copies from its initial weights, {words}",
             f"trained on {len(train)} of the {len(X)} samples read, held out {len(held)} (drawn with a fixed seed)"]
    if stride > 1:
        notes.append(f"every {stride}th of the {thinned} training samples kept, in loader order, so that "
                     f"{MIN_EPOCHS} whole epochs fit the {settings.budget:g} s budget")
    if not order:
        notes.append("mini-batches reshuffled every epoch in both variants, so only the fix differs")
    elif live.mean:
        notes.append("inputs normalized (measured mean/std) in both variants, so only the order differs")
    ev = build_evidence(
        code="", family=fix.family, task="regression" if facts.classes is None else
        ("binary" if facts.classes == 2 else "multiclass"), eval_loss=_loss_name(kind, live.loss), columns=(),
        eval_steps=np.asarray(ra[0]), curves=np.asarray([ra[1], rb[1]], np.float64),
        score_curves=np.asarray([ra[2], rb[2]], np.float64), first_nonfinite=np.asarray([ra[3], rb[3]]),
        n_seeds=1, steps=steps, batch=batch, epochs=None, hidden=0, setups=[("user", words, _lr(live))], d=0, n_out=0,
        rows={"train": len(train), "heldout": len(held)}, seconds=seconds, as_is=as_is, fixed=fixed,
        notes=notes, data="user", trainer="torch")
    return replace(ev, model="user", epochs=steps // max(1, len(train) // batch) if order else None)


def _lr(live: Any) -> float:
    """The learning rate the copies train with: optimizer='s first group's, else Adam's 1e-3."""
    groups = getattr(live.optimizer, "param_groups", None)
    lr = groups[0].get("lr") if groups else None
    return float(lr) if isinstance(lr, (int, float)) else 1e-3


def _loss_name(kind: str | None, loss: Any) -> str:
    if kind is None:
        return type(loss).__name__ if not hasattr(loss, "__name__") else str(loss.__name__)
    return "BCE of the probabilities" if kind.startswith("sigmoid") else "NLL of the probabilities"
