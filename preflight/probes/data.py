"""The two variants a probe trains, built from the user's rows with numpy alone (no torch).

Every probe compares an *as-is* variant with a *fixed* one that differs only by the rule's fix:

========  ==========================================  ==========================================
family    as-is                                       fixed
========  ==========================================  ==========================================
scale     flagged columns raw                         flagged columns standardized (train stats)
constant  every column standardized naively,          the constant columns dropped, the rest
          (x - mean) / std, std of 0 included          standardized
nonfinite flagged columns with their NaN/inf          non-finite cells replaced by the training
                                                      split's column mean
order     mini-batches in file order every epoch      the rows shuffled every epoch
output    the user's output activation and loss       logits with the matching stable loss
========  ==========================================  ==========================================

The columns are the ones the rule's fix transforms (``run.fix_columns``): the flagged columns, and for
PF102, whose fix standardizes every numeric feature, every numeric feature it compared.

What is not the rule's business is the same in both variants: columns the rule did not flag keep
their values (non-finite cells there are replaced by the training mean in both, so they do not
decide the comparison), a regression target is standardized with the training split's statistics
(so losses are in units of the target's standard deviation), order and output probes see
standardized features in both variants (order) or the user's features in both (output).

The held-out split is interleaved (every fourth row of the sample), so for data sorted by label
both splits cover every class, and training never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from preflight.probes.settings import (MIN_HELDOUT_ROWS, MIN_TRAIN_ROWS, ORDER_BATCH, DEFAULT_BATCH,
                                       ProbeSettings)

HELDOUT_EVERY = 4  # every fourth sampled row is held out

# Output kinds a PF3xx rule can name: (training loss of the as-is variant, what the user wrote).
OUTPUT_KINDS: dict[str, str] = {
    "sigmoid_bce": "sigmoid + BCELoss",
    "softmax_ce": "softmax + CrossEntropyLoss",
    "softmax_nll": "softmax + NLLLoss",
}
# The stable loss each kind's fix uses, on logits.
FIXED_LOSS: dict[str, str] = {
    "sigmoid_bce": "bce_logits",
    "softmax_ce": "ce_logits",
    "softmax_nll": "ce_logits",
}
FIXED_TEXT: dict[str, str] = {
    "bce_logits": "logits + BCEWithLogitsLoss",
    "ce_logits": "logits + CrossEntropyLoss",
}


class Skip(Exception):
    """The probe cannot run on this input; the message says why, for the evidence's reason."""


@dataclass
class ProbeData:
    """Everything the trainer needs, as numpy arrays. Variant 0 is as-is, variant 1 fixed."""

    family: str
    task: str
    n_out: int
    X_train: np.ndarray  # (2, N, D) float32
    y_train: np.ndarray  # (N,) float32 (class codes or standardized values)
    X_test: np.ndarray  # (2, Nt, D) float32
    y_test: np.ndarray  # (Nt,)
    losses: tuple[str, str]  # training loss of each variant
    eval_loss: str  # the held-out loss, the same for both variants
    batch_size: int
    order: tuple[str, str] = ("shuffled", "shuffled")  # "file" or "shuffled", per variant
    as_is: str = ""
    fixed: str = ""
    columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[1])

    def fingerprint_arrays(self) -> list[np.ndarray]:
        return [self.X_train, self.y_train, self.X_test, self.y_test]


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


def split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved split: every ``HELDOUT_EVERY``-th row held out, the rest trained on, file order kept."""
    idx = np.arange(n)
    test = idx % HELDOUT_EVERY == HELDOUT_EVERY - 1
    return idx[~test], idx[test]


# --- column transforms (statistics from the training split only) -------------------------------

def finite_mean_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    finite = np.isfinite(X)
    n = finite.sum(axis=0)
    safe = np.where(finite, X, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, safe.sum(axis=0) / np.maximum(n, 1), 0.0)
        dev = np.where(finite, X - mean, 0.0)
        std = np.sqrt((dev * dev).sum(axis=0) / np.maximum(n, 1))
    return mean, std


def impute(X: np.ndarray, cols: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Non-finite cells of columns ``cols`` replaced by ``mean``."""
    X = X.copy()
    for j in np.flatnonzero(cols):
        bad = ~np.isfinite(X[:, j])
        X[bad, j] = mean[j]
    return X


def standardize(X: np.ndarray, cols: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Columns ``cols`` standardized; a column with std 0 is centred only (it then holds zeros)."""
    X = X.copy()
    scale = np.where(std > 0, std, 1.0)
    X[:, cols] = (X[:, cols] - mean[cols]) / scale[cols]
    return X


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
    elif len(np.unique(y_tr)) < table.n_out or len(np.unique(y_tr)) < 2:
        raise Skip("the training split does not hold every class")
    return y_tr.astype(np.float32), y_te.astype(np.float32), notes


def _check_rows(tr: np.ndarray, te: np.ndarray) -> None:
    if len(tr) < MIN_TRAIN_ROWS or len(te) < MIN_HELDOUT_ROWS:
        raise Skip(f"too few rows with a target ({len(tr) + len(te)}; the probe needs "
                   f"{MIN_TRAIN_ROWS + MIN_HELDOUT_ROWS})")


def _stack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a, b]).astype(np.float32)


# --- the families ------------------------------------------------------------------------------

FAMILIES = ("scale", "constant", "nonfinite", "order", "output")


def build(family: str, table: Table, columns: Sequence[str], settings: ProbeSettings,
          output_kind: str | None = None) -> ProbeData:
    """The as-is and fixed variants of ``family`` on ``table`` for the flagged ``columns``."""
    tr, te = split(len(table.y))
    _check_rows(tr, te)
    y_tr, y_te, notes = _target(table, tr, te)
    X_tr, X_te = table.X[tr], table.X[te]
    mean, std = finite_mean_std(X_tr)
    flagged = _columns(table, columns)
    n_cols = len(table.features)
    eval_loss = {"binary": "bce_logits", "multiclass": "ce_logits", "regression": "mse"}[table.task]
    batch = settings.batch_size or DEFAULT_BATCH
    common = dict(task=table.task, n_out=table.n_out, y_train=y_tr, y_test=y_te, eval_loss=eval_loss,
                  losses=(eval_loss, eval_loss), batch_size=batch, notes=notes)
    if family in ("scale", "nonfinite", "constant") and columns and not flagged.any():
        raise Skip("the flagged columns are not numeric, so no probe can train on them")
    usable = np.isfinite(X_tr).any(axis=0)
    if not usable.any():
        raise Skip("no numeric feature holds a finite value")

    if family == "scale":
        background = ~flagged
        a_tr, a_te = impute(X_tr, np.ones(n_cols, bool), mean), impute(X_te, np.ones(n_cols, bool), mean)
        if not np.isfinite(table.X[:, background]).all():
            notes.append("non-finite cells imputed with the training mean in both variants")
        f_tr, f_te = standardize(a_tr, flagged, mean, std), standardize(a_te, flagged, mean, std)
        return ProbeData(family, X_train=_stack(a_tr, f_tr), X_test=_stack(a_te, f_te),
                         as_is="raw features", fixed="flagged columns standardized (training-split mean and std)",
                         columns=_names(table, flagged), **common)

    if family == "constant":
        if not flagged.any():
            flagged = usable & (std == 0)
        everything = np.ones(n_cols, bool)
        base_tr, base_te = impute(X_tr, everything, mean), impute(X_te, everything, mean)
        # as-is: the naive (x - x.mean(0)) / x.std(0) a user writes, in float32 as torch computes it
        a_tr, a_te = _naive_standardize(base_tr, base_te)
        keep = ~flagged
        f_tr, f_te = _naive_standardize(base_tr[:, keep], base_te[:, keep])
        # a dropped column is a column of zeros: no input, no gradient to its weights
        f_tr_full = np.zeros_like(a_tr)
        f_te_full = np.zeros_like(a_te)
        f_tr_full[:, keep], f_te_full[:, keep] = f_tr, f_te
        return ProbeData(family, X_train=_stack(a_tr, f_tr_full), X_test=_stack(a_te, f_te_full),
                         as_is="(x - mean) / std on every column, a std of 0 included",
                         fixed="constant columns dropped, the others standardized",
                         columns=_names(table, flagged), **common)

    if family == "nonfinite":
        if not flagged.any():
            flagged = ~np.isfinite(table.X).all(axis=0)
        bad_tr = ~np.isfinite(X_tr[:, flagged])
        if not bad_tr.any():
            raise Skip("the sampled training rows hold no non-finite value in the flagged columns "
                       f"({len(tr)} rows sampled of the file)")
        background = ~flagged
        a_tr, a_te = impute(X_tr, background, mean), impute(X_te, background, mean)
        f_tr, f_te = impute(X_tr, np.ones(n_cols, bool), mean), impute(X_te, np.ones(n_cols, bool), mean)
        rows_bad = int(bad_tr.any(axis=1).sum())
        notes.append(f"{rows_bad} of {len(tr)} training rows hold a non-finite value")
        return ProbeData(family, X_train=_stack(a_tr, f_tr), X_test=_stack(a_te, f_te),
                         as_is="rows with NaN/inf kept", fixed="non-finite cells replaced by the training-split mean",
                         columns=_names(table, flagged), **common)

    if family == "order":
        everything = np.ones(n_cols, bool)
        s_tr = standardize(impute(X_tr, everything, mean), everything, mean, std)
        s_te = standardize(impute(X_te, everything, mean), everything, mean, std)
        common["batch_size"] = settings.batch_size or ORDER_BATCH
        notes.append("features standardized in both variants, so only the row order differs")
        return ProbeData(family, X_train=_stack(s_tr, s_tr), X_test=_stack(s_te, s_te),
                         order=("file", "shuffled"), as_is="mini-batches in file order",
                         fixed="rows shuffled every epoch", columns=tuple(columns), **common)

    if family == "output":
        if output_kind not in OUTPUT_KINDS:
            raise Skip(f"unknown output kind {output_kind!r}; known: {', '.join(OUTPUT_KINDS)}")
        if output_kind.startswith("sigmoid") and table.task != "binary":
            raise Skip(f"{OUTPUT_KINDS[output_kind]} needs a binary target, this one is {table.task}")
        if output_kind.startswith("softmax") and table.task == "regression":
            raise Skip(f"{OUTPUT_KINDS[output_kind]} needs a class target, this one is regression")
        everything = np.ones(n_cols, bool)
        u_tr, u_te = impute(X_tr, everything, mean), impute(X_te, everything, mean)
        if table.task == "binary" and output_kind.startswith("softmax"):
            common["n_out"] = 2  # a two-class softmax head
            common["eval_loss"] = "ce_logits"
        fixed_loss = FIXED_LOSS[output_kind]
        common["losses"] = (output_kind, fixed_loss)
        notes.append("the same features in both variants, as given")
        return ProbeData(family, X_train=_stack(u_tr, u_tr), X_test=_stack(u_te, u_te),
                         as_is=OUTPUT_KINDS[output_kind], fixed=FIXED_TEXT[fixed_loss],
                         columns=tuple(columns), **common)

    raise Skip(f"no probe for family {family!r}")


def _naive_standardize(X_tr: np.ndarray, X_te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = X_tr.astype(np.float32)
    mean = a.mean(axis=0)
    std = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1], np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a - mean) / std, (X_te.astype(np.float32) - mean) / std


def _names(table: Table, mask: np.ndarray) -> tuple[str, ...]:
    return tuple(n for n, m in zip(table.features, mask) if m)


# --- mini-batch order ----------------------------------------------------------------------------

def batch_plan(n: int, batch: int, steps: int | None, epochs: int | None, seeds: Sequence[int],
               order: tuple[str, str]) -> np.ndarray:
    """Row indices of every mini-batch: shape (steps, 2 * len(seeds), batch), as-is models first.

    Each epoch is file order ("file") or a permutation seeded by seed and epoch ("shuffled"), cut
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
                rows = np.arange(n) if variant == "file" else rng.permutation(n)
                cut.append(rows[: per_epoch * batch].reshape(per_epoch, batch))
            plans.append(np.concatenate(cut)[:steps])
    return np.stack(plans, axis=1)
