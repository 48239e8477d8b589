"""The two variants a probe trains, built from the user's rows with numpy alone (no torch).

Every probe compares an *as-is* variant with a *fixed* one that differs only by the rule's fix: the
fix object the rule names (``preflight.checks.fixes``) builds both from the split made here, and
says which columns it transforms (``Fix.columns``), in which order each variant's batches come,
and which losses train them.

What is not the fix's business is the same in both variants: a regression target is standardized
with the training split's statistics (so losses are in units of the target's standard deviation),
and each fix keeps the columns it does not transform alike in both.

The held-out split is interleaved (every fourth row of the sample), so for data sorted by label
both splits cover every class, and training never sees it. It is interleaved apart among the rows
the fix changes (``Fix.changed_rows``: the rows holding a NaN for an imputation, the rare classes'
rows for class weights) and the others, so both splits always hold rows the fix changes (one such
row goes to training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.checks.fixes import Fix, Skip, Split
from preflight.probes.settings import DEFAULT_BATCH, MIN_HELDOUT_ROWS, MIN_TRAIN_ROWS, ORDER_BATCH, ProbeSettings

HELDOUT_EVERY = 4  # every fourth sampled row is held out
EVAL_LOSS = {"binary": "bce_logits", "multiclass": "ce_logits", "regression": "mse"}  # the held-out loss, by task


@dataclass
class ProbeData:
    """Everything the trainer needs, as numpy arrays, and the fix that built them (its batch order and
    its words). Variant 0 is as-is, variant 1 fixed."""

    fix: Fix
    task: str
    n_out: int
    X_train: np.ndarray  # (2, N, D) float32
    y_train: np.ndarray  # (N,) float32 (class codes or standardized values)
    X_test: np.ndarray  # (2, Nt, D) float32
    y_test: np.ndarray  # (Nt,)
    losses: tuple[str, str]  # training loss of each variant
    eval_loss: str  # the held-out loss, the same for both variants
    batch_size: int
    columns: tuple[str, ...]  # the columns the evidence names
    notes: list[str]
    weights: np.ndarray | None = None  # (2, N) each variant's weight of each training row; None: all 1
    metric: str = "accuracy"  # the held-out metric: "accuracy", "balanced_accuracy" or "r2"

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[1])

    def fingerprint_arrays(self) -> list[np.ndarray]:
        extra = [] if self.weights is None else [self.weights]
        return [self.X_train, self.y_train, self.X_test, self.y_test, *extra]


# --- from a subject to plain arrays ------------------------------------------------------------

@dataclass
class Table:
    features: tuple[str, ...]
    X: np.ndarray  # (n, d) float64, file order
    y: np.ndarray  # (n,) float64
    task: str
    n_out: int


def no_rows_reason(subject: Any) -> str | None:
    """Why ``subject`` has no rows a probe can train on (a .py file, a live loader, a table without
    a sample or a target), or None when it has."""
    sample = getattr(subject, "sample", None)
    if sample is None or sample.X is None or len(sample.X) == 0:
        return "no sampled rows to train on"
    if sample.y is None or getattr(subject, "task", None) is None:
        return "no target column, so there is nothing to train a probe on"
    return None


def table_from_subject(subject: Any, max_rows: int) -> Table:
    """The subject's ordered sample as arrays, thinned to at most ``max_rows`` training rows."""
    reason = no_rows_reason(subject)
    if reason is not None:
        raise Skip(reason)
    sample = subject.sample
    counts = getattr(getattr(subject, "stats", None), "target_counts", None)
    if subject.task in ("binary", "multiclass") and counts is not None and counts.overflow:
        raise Skip(f"the target has more than {counts.cap} distinct values, too many classes for the probe's "
                   "classifier to learn from a sample")
    return table_from_arrays(sample.X, sample.y, subject.task, sample.features, max_rows)


def table_from_arrays(X: np.ndarray, y: np.ndarray, task: str, features: Sequence[str] | None = None,
                      max_rows: int = 4096) -> Table:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    features = tuple(features) if features is not None else tuple(f"x{i}" for i in range(X.shape[1]))
    if X.shape[1] == 0:
        raise Skip("no numeric feature columns")
    keep = np.isfinite(y)
    X, y = X[keep], y[keep]
    cap = max_rows + max_rows // (HELDOUT_EVERY - 1)
    if len(y) > cap:
        stride = -(-len(y) // cap)  # ceil: every stride-th row, still in file order
        X, y = X[::stride], y[::stride]
    if task in ("binary", "multiclass"):
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) == 0:
            raise Skip("no sampled row has a target value the probe can read as a class")
        if len(classes) < 2:
            raise Skip("the target has a single class in the sampled rows")
        y = codes.astype(np.float64)
        n_out = 1 if len(classes) == 2 else len(classes)
        task = "binary" if len(classes) == 2 else "multiclass"
    elif task == "regression":
        n_out = 1
    else:
        raise Skip(f"unknown task {task!r}")
    return Table(features, X, y, task, n_out)


def split(n: int, changed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved split: every ``HELDOUT_EVERY``-th row held out, the rest trained on, file order kept.

    With ``changed`` (the rows the fix changes), the rows of each kind are interleaved apart, so both
    splits hold changed rows whenever two or more exist (a single one is trained on)."""
    idx = np.arange(n)
    groups = [idx] if changed is None else [np.flatnonzero(changed), np.flatnonzero(~changed)]
    test = np.zeros(n, bool)
    for group in groups:
        held = np.arange(len(group)) % HELDOUT_EVERY == HELDOUT_EVERY - 1
        if len(group) >= 2 and not held.any():
            held[-1] = True  # 2 or 3 rows of a kind: one of them held out
        test[group[held]] = True
    return idx[~test], idx[test]


def _columns(table: Table, columns: Sequence[str]) -> np.ndarray:
    mask = np.zeros(len(table.features), dtype=bool)
    for c in columns:
        if c in table.features:
            mask[table.features.index(c)] = True
    return mask


def _target(table: Table, tr: np.ndarray, te: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    y_tr, y_te = table.y[tr], table.y[te]
    notes: list[str] = []
    if table.task == "regression":
        mu, sd = float(y_tr.mean()), float(y_tr.std())
        sd = sd if sd > 0 else 1.0
        y_tr, y_te = (y_tr - mu) / sd, (y_te - mu) / sd
        notes.append("regression target standardized in both variants")
    elif len(np.unique(y_tr)) < max(2, table.n_out):
        classes, counts = np.unique(table.y, return_counts=True)
        missing = [c for c in classes if c not in set(np.unique(y_tr))]
        few = ", ".join(f"class {int(c)} has {int(counts[list(classes).index(c)])} row(s)" for c in missing[:3])
        raise Skip(f"the training split lacks a class ({few} in the probe's sample, all held out)")
    return y_tr.astype(np.float32), y_te.astype(np.float32), notes


def _check_rows(tr: np.ndarray, te: np.ndarray) -> None:
    if len(tr) < MIN_TRAIN_ROWS or len(te) < MIN_HELDOUT_ROWS:
        raise Skip(f"too few rows with a target ({len(tr) + len(te)}; the probe needs "
                   f"{MIN_TRAIN_ROWS + MIN_HELDOUT_ROWS})")


def _stack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a, b]).astype(np.float32)


# --- the variants ------------------------------------------------------------------------------

def build(fix: Fix, table: Table, columns: Sequence[str], settings: ProbeSettings) -> ProbeData:
    """The as-is and fixed variants of ``fix`` on ``table``, transforming ``columns`` (``Fix.columns``)."""
    flagged = _columns(table, columns)
    tr, te = split(len(table.y), fix.changed_rows(table.X, table.y, flagged))
    _check_rows(tr, te)
    y_tr, y_te, notes = _target(table, tr, te)
    X_tr, X_te = table.X[tr], table.X[te]
    if fix.transforms_columns and columns and not flagged.any():
        names = ", ".join(repr(c) for c in list(columns)[:3]) + (", ..." if len(columns) > 3 else "")
        raise Skip(f"the flagged columns ({names}) are not among the numeric features the probe trains on "
                   "(the target itself, or a text column), so no transform of them can be measured")
    if not np.isfinite(X_tr).any(axis=0).any():
        raise Skip("no numeric feature holds a finite value")
    n_out, eval_loss = fix.head(table.task, table.n_out, EVAL_LOSS[table.task])
    v = fix.variants(Split(X_tr, X_te, flagged))
    order_is_the_fix = fix.order[0] != fix.order[1]
    weights = fix.sample_weights(y_tr, max(2, n_out)) if table.task != "regression" else None
    metric = "r2" if table.task == "regression" else (fix.metric or "accuracy")
    return ProbeData(
        fix, task=table.task, n_out=n_out, X_train=_stack(*v.train), y_train=y_tr, X_test=_stack(*v.test),
        y_test=y_te, losses=fix.losses(eval_loss), eval_loss=eval_loss,
        batch_size=settings.batch_size or (ORDER_BATCH if order_is_the_fix else DEFAULT_BATCH),
        columns=tuple(columns) if v.columns is None else _names(table, v.columns),
        notes=notes + list(v.notes), metric=metric,
        weights=None if weights is None else np.stack(weights).astype(np.float32))


def _names(table: Table, mask: np.ndarray) -> tuple[str, ...]:
    return tuple(n for n, m in zip(table.features, mask) if m)


# --- mini-batch order ----------------------------------------------------------------------------

def batch_plan(n: int, batch: int, steps: int | None, epochs: int | None, seeds: Sequence[int],
               order: tuple[str, str], buffer: int = 1) -> np.ndarray:
    """Row indices of every mini-batch: shape (steps, 2 * len(seeds), batch), as-is models first.

    Each epoch is file order ("file"), file order through a shuffle buffer of ``buffer`` rows
    (``local_shuffle``: "buffer") or a permutation seeded by seed and epoch ("shuffled"), cut
    into ``n // batch`` full batches (``DataLoader(drop_last=True)``). ``epochs`` given: that many
    whole epochs; else the first ``steps`` batches. A seed's permutations are the same for both
    variants, so when both shuffle, both see the same batches.
    """
    batch = max(1, min(batch, n))
    per_epoch = n // batch
    if epochs is not None:
        steps = epochs * per_epoch
    assert steps is not None and steps > 0
    n_epochs = -(-steps // per_epoch)
    plans = []
    for variant in order:
        for seed in seeds:
            rng = np.random.default_rng([seed, 1])
            cut = []
            for _ in range(n_epochs):
                rows = (np.arange(n) if variant == "file" else local_shuffle(n, buffer, rng)
                        if variant == "buffer" else rng.permutation(n))
                cut.append(rows[: per_epoch * batch].reshape(per_epoch, batch))
            plans.append(np.concatenate(cut)[:steps])
    return np.stack(plans, axis=1)


def local_shuffle(n: int, buffer: int, rng: np.random.Generator) -> np.ndarray:
    """Rows 0..n-1 streamed through a shuffle buffer of ``buffer`` rows: the buffer fills in order,
    then each step emits a random one of its rows and takes the next row in (reservoir style, as
    streaming loaders' local shuffles do); the last rows leave in random order. ``buffer`` 1 is file order."""
    buffer = max(1, min(buffer, n))
    if buffer == 1:
        return np.arange(n)
    held = list(range(buffer))
    out = np.empty(n, dtype=np.int64)
    picks = rng.integers(0, buffer, size=n - buffer)
    for i, nxt in enumerate(range(buffer, n)):
        j = int(picks[i])
        out[i] = held[j]
        held[j] = nxt
    out[n - buffer:] = rng.permutation(np.asarray(held))
    return out
