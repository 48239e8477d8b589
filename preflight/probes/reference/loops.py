"""Recorded evidence of the training-loop rules PF501-PF506 (``LoopFix``): a small seeded training on
a stated reference set, run with the loop as the rule finds it and with the rule's fix, from the same
initial weights and the same mini-batches, judged by the probe's judge (``preflight.probes.evidence``:
fixed <= 0.8 x as-is and 0.01 lower in every seed, per setup).

The set (``reference_set``): ``blobs`` with 1,000 rows, 20 features and 2 classes (centres 0.5 apart
per feature, 3% of labels flipped), the first 800 rows for training and the last 200 held out (rows
are in random order): the shape of the catalog's examples (``nn.Linear(20, ...)``, two logits,
``CrossEntropyLoss``), small enough that 24 epochs take a second. The model is the catalog's
MLP 20-64-2 (ReLU); PF502 and PF504, whose bugs act through dropout and batch norm, add
``BatchNorm1d(64)`` and ``Dropout(0.5)`` as PF502's catalog example does (PF504's has the dropout).
Mini-batches of 32, 600 iterations (24 epochs), ordered as a ``DistributedSampler(num_replicas=1,
seed=seed)`` with ``set_epoch(epoch)`` orders them (no process group is needed to draw its
permutation); 3 seeds; two setups, the optimizers of the catalog examples: ``sgd`` (SGD lr 0.1)
and ``adam-default`` (Adam lr 1e-3). None of this was tuned on the results. One torch thread,
torch's generator forked and seeded.

What each probe compares, and why:

* ``zero_grad`` (PF501): held-out cross-entropy with and without ``zero_grad()`` each step; the cost
  of the bug is how training goes, so the training's own held-out loss is the measure.
* ``eval_mode`` (PF502): one training, evaluated two ways at each evaluation: as the bad loop does
  (train mode, dropout and batch-norm batch statistics, outside ``no_grad``) and after ``eval()``
  under ``no_grad``. The bug changes the reported number, not the model, so the compared number is
  the held-out loss the loop reports (model selection reads it). The train-mode evaluation runs on a
  copy with its own seeded generator, so that it moves neither the model's running statistics nor the
  training's dropout masks. The memory cost of evaluating outside ``no_grad`` (the bytes autograd
  saves for backward in one held-out batch) is measured too and said in a note.
* ``loss_item`` (PF503): the training is the same either way (its held-out loss is identical, said in
  the reason); the cost is memory, so the compared number is the autograd graph nodes the accumulator
  keeps alive at each evaluation, which grows with every iteration and is 0 with ``.item()``. After
  ``backward()`` the saved activations are freed and only the nodes stay; in a loop that never calls
  ``backward()`` (an evaluation outside ``no_grad``) the activations stay too: their bytes are a note.
* ``train_mode`` (PF504): held-out cross-entropy (eval mode, ``no_grad``) when the model is left in
  eval mode after the first epoch's evaluation, against ``train()`` restored every epoch.
* ``set_epoch`` (PF505): held-out cross-entropy with the epoch-0 shuffle every epoch against a fresh
  shuffle per epoch; expected small, since one random order repeated is still a random order.
* ``divide_loss`` (PF506): held-out cross-entropy with k = 8 accumulated mini-batches whose loss is
  or is not divided by k (600 iterations, 75 optimizer steps). SGD's step is k times larger; Adam
  divides the gradient by its own running scale, so it is nearly invariant to k (expect no gap there).

``measure(kind)`` is the fresh run; ``python -m preflight.probes.reference`` records it as
``loop-<kind>.json``. ``measure(kind, fixed_is_bug=True)`` runs the as-is loop in both variants (a
no-op fix), which must give a ratio of exactly 1.
"""

from __future__ import annotations

import copy
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from preflight.checks.loop_fixes import LoopFix
from preflight.findings import Evidence, Gap
from preflight.probes.evidence import build_evidence, judge, num
from preflight.probes.reference.data import blobs
from preflight.probes.settings import CONFIRM_RATIO

ROWS, TRAIN, FEATURES, HIDDEN = 1000, 800, 20, 64
BATCH, ITERATIONS, EVAL_EVERY, SEEDS, ACCUM = 32, 600, 60, 3, 8
SETUPS: tuple[tuple[str, str, float], ...] = (("sgd", "SGD lr 0.1", 0.1), ("adam-default", "Adam lr 0.001", 1e-3))
REGULARIZED = ("eval_mode", "train_mode")  # the kinds whose model has batch norm and dropout
MEMORY = "autograd nodes kept alive"
ABOUT = "1,000 rows of two Gaussian classes in 20 features (800 trained on, 200 held out)"


def reference_set() -> dict[str, np.ndarray]:
    X, y = blobs(n=ROWS, d=FEATURES, classes=2, sep=0.5, seed=0)
    return {"X_train": X[:TRAIN], "y_train": y[:TRAIN], "X_test": X[TRAIN:], "y_test": y[TRAIN:]}


@dataclass
class Trace:
    """One training's evaluations: held-out loss, accuracy and the compared number (the loss, or the
    autograd nodes the accumulator keeps), one value per evaluation."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    compared: list[float] = field(default_factory=list)


# --- the model, the optimizer, the batches --------------------------------------------------------

def _net(kind: str, seed: int) -> Any:
    import torch.nn as nn

    from preflight.inputs.model_stats import seeded_rng

    with seeded_rng(seed):
        middle = [nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Dropout(0.5)] if kind in REGULARIZED else [nn.ReLU()]
        return nn.Sequential(nn.Linear(FEATURES, HIDDEN), *middle, nn.Linear(HIDDEN, 2))


def _optimizer(name: str, lr: float, params: Any) -> Any:
    import torch

    return torch.optim.Adam(params, lr=lr) if name.startswith("adam") else torch.optim.SGD(params, lr=lr)


def _epochs(seed: int, set_epoch: bool) -> Iterator[list[int]]:
    """The training rows of each epoch, as a ``DistributedSampler`` on one process orders them."""
    from torch.utils.data.distributed import DistributedSampler

    rows: Any = range(TRAIN)  # the sampler reads only len()
    sampler: Any = DistributedSampler(rows, num_replicas=1, rank=0, shuffle=True, seed=seed)
    epoch = 0
    while True:
        if set_epoch:
            sampler.set_epoch(epoch)
        yield list(sampler)
        epoch += 1


def _batches(seed: int, set_epoch: bool) -> Iterator[tuple[int, list[int]]]:
    """(epoch, rows) of each full mini-batch (``drop_last``), ``ITERATIONS`` in all."""
    i = 0
    for epoch, rows in enumerate(_epochs(seed, set_epoch)):
        for start in range(0, TRAIN - BATCH + 1, BATCH):
            if i == ITERATIONS:
                return
            yield epoch, rows[start:start + BATCH]
            i += 1


# --- measuring ------------------------------------------------------------------------------------

def _heldout(model: Any, data: dict[str, Any], train_mode: bool = False) -> tuple[float, float]:
    """(held-out cross-entropy, accuracy) in eval mode under no_grad; ``train_mode``: as a loop without
    ``eval()`` or ``no_grad`` measures it, in mini-batches, on a copy with its own generator."""
    import torch
    import torch.nn.functional as F

    X, y = data["X_test"], data["y_test"]
    if not train_mode:
        was = model.training
        model.eval()
        with torch.no_grad():
            out = model(X)
        model.train(was)
        return float(F.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())
    probe = copy.deepcopy(model).train()
    with torch.random.fork_rng():
        torch.random.default_generator.manual_seed(12345)
        outs = [probe(X[i:i + BATCH]) for i in range(0, len(y), BATCH)]
    out = torch.cat(outs).detach()
    return float(F.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())


def graph_nodes(t: Any) -> int:
    """The autograd nodes reachable from tensor ``t`` (0 for a number or a tensor without history)."""
    root = getattr(t, "grad_fn", None)
    seen: dict[int, Any] = {}  # id -> node: holding the node keeps its id unique
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return len(seen)


def saved_bytes(run: Callable[[], Any]) -> int:
    """Bytes of the tensors autograd saves for backward during ``run()`` that are still held when it
    returns (by what it returns, or by anything it accumulated)."""
    import gc

    import torch

    held: list[tuple[weakref.ref[Any], int]] = []

    class Saved:
        def __init__(self, t: Any) -> None:
            self.t = t

    def pack(t: Any) -> Saved:
        s = Saved(t.detach())  # no grad_fn: holding it makes no cycle through the graph
        held.append((weakref.ref(s), t.numel() * t.element_size()))
        return s

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda s: s.t):
        kept = run()
    gc.collect()
    alive = sum(n for ref, n in held if ref() is not None)
    del kept
    return alive


# --- the training ---------------------------------------------------------------------------------

def train(kind: str, buggy: bool, setup: tuple[str, str, float], seed: int, data: dict[str, Any]) -> Trace:
    """One training of ``kind``'s loop (as the rule finds it when ``buggy``), evaluated every
    ``EVAL_EVERY`` iterations (and before the first)."""
    import torch
    import torch.nn.functional as F

    from preflight.inputs.model_stats import one_thread, seeded_rng

    model = _net(kind, seed)
    opt = _optimizer(setup[0], setup[2], model.parameters())
    trace, total, last_epoch = Trace(), torch.zeros(()), 0
    with one_thread(), seeded_rng(seed):
        model.train()
        _evaluate(kind, buggy, model, data, total, trace)
        for i, (epoch, rows) in enumerate(_batches(seed, set_epoch=not (buggy and kind == "set_epoch"))):
            if epoch != last_epoch:  # the end-of-epoch evaluation of the catalog's PF504 loop
                model.eval()
                if not (buggy and kind == "train_mode"):
                    model.train()
                last_epoch = epoch
            loss = F.cross_entropy(model(data["X_train"][rows]), data["y_train"][rows])
            total = _step(kind, buggy, i, loss, opt, total)
            if (i + 1) % EVAL_EVERY == 0:
                _evaluate(kind, buggy, model, data, total, trace)
    return trace


def _step(kind: str, buggy: bool, i: int, loss: Any, opt: Any, total: Any) -> Any:
    """backward() and the optimizer step as the loop of ``kind`` does them; the accumulator after."""
    if kind == "divide_loss":
        (loss if buggy else loss / ACCUM).backward()
        if (i + 1) % ACCUM == 0:
            opt.step()
            opt.zero_grad()
        return total
    loss.backward()
    opt.step()
    if not (buggy and kind == "zero_grad"):
        opt.zero_grad()
    if kind == "loss_item":
        return total + loss if buggy else total + loss.item()
    return total


def _evaluate(kind: str, buggy: bool, model: Any, data: dict[str, Any], total: Any, trace: Trace) -> None:
    loss, acc = _heldout(model, data, train_mode=buggy and kind == "eval_mode")
    trace.loss.append(loss)
    trace.accuracy.append(acc)
    trace.compared.append(float(graph_nodes(total)) if kind == "loss_item" else loss)


# --- the evidence ---------------------------------------------------------------------------------

def tensors() -> dict[str, Any]:
    import torch

    d = reference_set()
    return {k: torch.tensor(v, dtype=torch.float32 if k.startswith("X") else torch.int64) for k, v in d.items()}


def measure(kind: str, fixed_is_bug: bool = False, code: str = "PF5xx") -> Evidence:
    """The fresh evidence of ``LoopFix(kind)`` (``data`` "reference", no seconds); ``fixed_is_bug``:
    the as-is loop in both variants."""
    fix = LoopFix(kind)
    data = tensors()
    t0 = time.perf_counter()
    traces = [train(kind, buggy, setup, seed, data) for buggy in (True, fixed_is_bug)
              for setup in SETUPS for seed in range(SEEDS)]
    seconds = time.perf_counter() - t0
    compared = np.array([t.compared for t in traces])
    ev = build_evidence(
        code=code, family=fix.family, task="binary", eval_loss="ce_logits", columns=(),
        eval_steps=np.array([0, *range(EVAL_EVERY, ITERATIONS + 1, EVAL_EVERY)]), curves=compared,
        score_curves=np.array([t.accuracy for t in traces]), first_nonfinite=_first_nonfinite(traces),
        n_seeds=SEEDS, steps=ITERATIONS, batch=BATCH, epochs=None, hidden=HIDDEN, setups=SETUPS, d=FEATURES,
        n_out=2, rows={"train": TRAIN, "heldout": ROWS - TRAIN}, seconds=seconds, as_is=fix.as_is,
        fixed=fix.fixed, notes=_notes(kind, traces), data="reference", trainer="torch")
    ev = replace(ev, model=ev.model.replace(" (ReLU)", " (ReLU, batch norm, dropout 0.5)")
                 if ev.model and kind in REGULARIZED else ev.model, about=ABOUT, seconds=None, cached=None)
    return _memory(ev, traces) if kind == "loss_item" else ev


def _first_nonfinite(traces: list[Trace]) -> np.ndarray:
    """Per training, the first evaluation whose held-out loss is NaN/inf as a step, -1 if none."""
    out = []
    for t in traces:
        bad = [i for i, v in enumerate(t.loss) if not np.isfinite(v)]
        out.append(-1 if not bad else (bad[0] * EVAL_EVERY))
    return np.array(out, dtype=np.int64)


def _memory(ev: Evidence, traces: list[Trace]) -> Evidence:
    """PF503's evidence: judged on the autograd nodes kept alive, which only grow, so each variant's
    number is the one after the last step (not the least one); the held-out loss goes in the reason."""
    half = len(traces) // 2
    diff = max(abs(a - b) for x, y in zip(traces[:half], traces[half:]) for a, b in zip(x.loss, y.loss))
    # a count that only grows: its least value is the first one, so only "after the last step" counts
    panel = tuple(replace(p, as_is_best=p.as_is_last, fixed_best=p.fixed_last, as_is_early=None, fixed_early=None,
                          early_step=None, gap_at=tuple(g for g in p.gap_at if g == "last")) for p in ev.panel)
    verdict, reason = judge(panel, [False] * len(panel), SEEDS, MEMORY)
    same = ("the held-out loss is the same in every seed and setup (no loss gap: the training is identical)"
            if diff == 0 else f"the held-out loss differs by at most {num(diff, 3)} (no loss gap)")
    a, f = (replace(v, best=v.final, per_seed={**v.per_seed, "best": v.per_seed.get("final", ())})
            for v in (ev.as_is, ev.fixed) if v is not None)
    ratio = num(f.final / a.final) if a.final and f.final is not None else None
    gap = Gap(margin=CONFIRM_RATIO, compares=f"{MEMORY} after the last step", ratio=ratio,
              difference=num(a.final - f.final) if a.final is not None and f.final is not None else None)
    return replace(ev, verdict=verdict, reason=f"{reason}; {same}", loss=MEMORY, as_is=a, fixed=f, gap=gap,
                   judged_on="memory", panel=panel, shown_by=tuple(p.name for p in panel if p.shows_gap))


def _notes(kind: str, traces: list[Trace]) -> tuple[str, ...]:
    if kind == "eval_mode":
        return (f"outside torch.no_grad() each held-out batch of {BATCH} makes autograd save "
                f"{_eval_batch_bytes():,} bytes for a backward that never comes; under no_grad 0",)
    if kind == "loss_item":
        c = traces[0].compared
        per = num((c[-1] - c[1]) / (ITERATIONS - EVAL_EVERY), 3)
        kept, item = _unbackwarded_bytes(buggy=True), _unbackwarded_bytes(buggy=False)
        return (f"{per:g} more autograd nodes per iteration stay reachable from the accumulator (as long as it "
                "lives); backward() has freed their saved activations",
                f"in a loop that never calls backward() (an evaluation outside no_grad) the accumulator also "
                f"keeps every batch's saved activations: {kept:,} bytes after {TRAIN // BATCH} batches, "
                f"{item:,} with .item()")
    if kind == "divide_loss":
        return (f"k = {ACCUM}: {ITERATIONS} mini-batch iterations are {ITERATIONS // ACCUM} optimizer steps",)
    return ()


def _eval_batch_bytes() -> int:
    import torch.nn.functional as F

    data, model = tensors(), _net("eval_mode", 0)
    X, y = data["X_test"][:BATCH], data["y_test"][:BATCH]
    return saved_bytes(lambda: F.cross_entropy(model(X), y))


def _unbackwarded_bytes(buggy: bool) -> int:
    """Saved-tensor bytes an accumulator keeps after one epoch of forward passes without backward()."""
    import torch.nn.functional as F

    data, model = tensors(), _net("loss_item", 0)

    def run() -> Any:
        total: Any = 0.0
        for start in range(0, TRAIN - BATCH + 1, BATCH):
            loss = F.cross_entropy(model(data["X_train"][start:start + BATCH]), data["y_train"][start:start + BATCH])
            total = total + loss if buggy else total + loss.item()
        return total

    return saved_bytes(run)
