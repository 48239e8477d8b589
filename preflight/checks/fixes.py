"""The fixes rules name, as transforms the reference probe applies (numpy only: no torch, no probes).

A rule names its fix object (``Rule.fix_object``); ``preflight.probes`` applies whatever fix it is
given, with no table of rules or families. A fix says what it needs and what it does:

* ``as_is`` / ``fixed``: the two variants in words, for the evidence;
* ``family``: the evidence's ``family`` string (``scale``, ``constant``, ``nonfinite``, ``order``,
  ``output:<kind>``);
* ``transforms_columns``: whether it transforms columns at all (a probe then needs some); which
  columns is the rule's choice (``Rule.probe_columns``: by default the flagged ones);
* ``order`` / ``whole_epochs``: the row order of each variant's mini-batches, and whether the
  training runs whole epochs (as a training loop over a loader does);
* ``head(task, n_out, eval_loss)`` and ``losses(eval_loss)``: the output units, the held-out loss and
  the training loss of each variant;
* ``variants(split)``: the as-is and fixed features from the training / held-out split, with every
  statistic taken from the training split;
* ``changed_rows(X, y, flagged)``: the rows the fix changes (None: every row, or no telling), which
  the probe's split puts in both the training and the held-out rows;
* ``metric`` / ``judged_on`` / ``sample_weights(y_train, n_classes)``: the held-out metric the
  evidence reports (None: accuracy or R^2), whether the verdict compares held-out losses (``"loss"``)
  or one minus that metric (``"metric"``), and each variant's weight of each training row (None: 1).

What is not the fix's business is the same in both variants: columns it does not transform keep
their values (non-finite cells imputed alike, so that only the fix differs).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np


class Skip(Exception):
    """The fix cannot be measured on this input; the message says why, for the evidence's reason."""


@dataclass(frozen=True)
class Split:
    """What a fix transforms: the training and held-out rows (float64, file order) of the probe's split."""

    X_train: np.ndarray  # (n, d)
    X_test: np.ndarray  # (nt, d)
    flagged: np.ndarray  # (d,) bool: the columns asked for (``Fix.columns``) that the table holds


@dataclass(frozen=True)
class Variants:
    """The features of the two variants, as-is first, and what the evidence says about them."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    columns: np.ndarray | None = None  # (d,) bool: the columns the evidence names; None: the ones asked for
    notes: tuple[str, ...] = ()


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


def naive_standardize(X_tr: np.ndarray, X_te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``(x - x.mean(0)) / x.std(0)`` a user writes, in float32 as torch computes it (a std of 0 gives NaN)."""
    a = X_tr.astype(np.float32)
    mean = a.mean(axis=0)
    std = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1], np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a - mean) / std, (X_te.astype(np.float32) - mean) / std


def _imputed(s: Split, cols: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both splits with the non-finite cells of ``cols`` (default every column) imputed, and the
    training split's mean and std."""
    mean, std = finite_mean_std(s.X_train)
    cols = np.ones(s.X_train.shape[1], bool) if cols is None else cols
    return impute(s.X_train, cols, mean), impute(s.X_test, cols, mean), mean, std


def _all_standardized(s: Split) -> tuple[np.ndarray, np.ndarray]:
    """Both splits, imputed, with every column standardized by the training split's mean and std."""
    a_tr, a_te, mean, std = _imputed(s)
    every = np.ones(s.X_train.shape[1], bool)
    return standardize(a_tr, every, mean, std), standardize(a_te, every, mean, std)


def _dropped(X: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``X`` with columns ``cols`` dropped: a column of zeros, no input and no gradient to its weights."""
    out = X.copy()
    out[:, cols] = 0.0
    return out


def _all_finite(s: Split, cols: np.ndarray) -> np.ndarray:
    """Per column of ``cols``: whether every cell of both splits is finite."""
    return np.isfinite(s.X_train[:, cols]).all(axis=0) & np.isfinite(s.X_test[:, cols]).all(axis=0)


# --- the fixes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fix:
    """Base of every fix object: frozen dataclasses whose fields are the fix's parameters."""

    transforms_columns: ClassVar[bool] = True
    order: ClassVar[tuple[str, str]] = ("shuffled", "shuffled")  # "file", "buffer" or "shuffled", per variant
    whole_epochs: ClassVar[bool] = False
    transform_fields: ClassVar[tuple[str, ...] | None] = None  # the fields the transform reads (None: all)
    metric: ClassVar[str | None] = None  # "balanced_accuracy"; None: accuracy (classes) or R^2
    judged_on: ClassVar[str] = "loss"  # "loss": held-out loss; "metric": 1 - the metric

    @property
    def family(self) -> str:
        """The evidence's ``family``."""
        raise NotImplementedError

    @property
    def as_is(self) -> str:
        raise NotImplementedError

    @property
    def fixed(self) -> str:
        raise NotImplementedError

    def key(self) -> str:
        """The fix as a training sees it, for the cache key: its class and the fields its transform
        reads (not how it chooses columns: the chosen columns are in the data)."""
        names = [f.name for f in fields(self)] if self.transform_fields is None else list(self.transform_fields)
        return type(self).__name__ + "(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    def buffer_rows(self, n_train: int) -> int:
        """The shuffle buffer of a "buffer" order variant, in the probe's training rows (0: none)."""
        return 0

    def head(self, task: str, n_out: int, eval_loss: str) -> tuple[int, str]:
        """The output units and the held-out loss both variants train with."""
        return n_out, eval_loss

    def losses(self, eval_loss: str) -> tuple[str, str]:
        """The training loss of the as-is and the fixed variant."""
        return eval_loss, eval_loss

    def variants(self, s: Split) -> Variants:
        raise NotImplementedError

    def changed_rows(self, X: np.ndarray, y: np.ndarray, flagged: np.ndarray) -> np.ndarray | None:
        """(n,) bool: the rows the fix changes, or None (every row, or no telling)."""
        return None

    def sample_weights(self, y_train: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Each variant's weight of each training row, as-is first; None: every row weighs 1."""
        return None


@dataclass(frozen=True)
class Standardize(Fix):
    """Standardize the columns the rule names (``Rule.probe_columns``) with the training split's mean
    and std."""

    family = "scale"
    transform_fields = ()

    as_is = "raw features"
    fixed = "flagged columns standardized (training-split mean and std)"

    def variants(self, s: Split) -> Variants:
        a_tr, a_te, mean, std = _imputed(s)
        notes = () if _all_finite(s, ~s.flagged).all() else (
            "non-finite cells imputed with the training mean in both variants",)
        fixed = standardize(a_tr, s.flagged, mean, std), standardize(a_te, s.flagged, mean, std)
        return Variants((a_tr, fixed[0]), (a_te, fixed[1]), s.flagged, notes)


@dataclass(frozen=True)
class DropColumns(Fix):
    """Drop the (constant) columns, against standardizing every column naively, which divides by a
    std of 0. Without flagged columns, the constant ones are dropped."""

    family = "constant"
    as_is = "(x - mean) / std on every column, a std of 0 included"
    fixed = "constant columns dropped, the others standardized"

    def variants(self, s: Split) -> Variants:
        base_tr, base_te, _, std = _imputed(s)
        flagged = s.flagged if s.flagged.any() else np.isfinite(s.X_train).any(axis=0) & (std == 0)
        a_tr, a_te = naive_standardize(base_tr, base_te)
        keep = ~flagged
        f_tr, f_te = naive_standardize(base_tr[:, keep], base_te[:, keep])
        # a dropped column is a column of zeros: no input, no gradient to its weights
        full_tr, full_te = np.zeros_like(a_tr), np.zeros_like(a_te)
        full_tr[:, keep], full_te[:, keep] = f_tr, f_te
        return Variants((a_tr, full_tr), (a_te, full_te), flagged)


@dataclass(frozen=True)
class DropIdentifiers(Fix):
    """Drop the identifier columns, against feeding them with the other features; every feature is
    standardized in both variants (the identifier too in the as-is one, as "standardize it" advises),
    so only the identifier's presence differs, not the scale."""

    family = "identifier"
    as_is = "every feature standardized, the identifier included"
    fixed = "the identifier dropped, the other features standardized"

    def variants(self, s: Split) -> Variants:
        s_tr, s_te = _all_standardized(s)
        f_tr, f_te = _dropped(s_tr, s.flagged), _dropped(s_te, s.flagged)
        return Variants((s_tr, f_tr), (s_te, f_te), s.flagged)


@dataclass(frozen=True)
class Impute(Fix):
    """Replace the non-finite cells of the columns with the training split's ``statistic``, against
    keeping them. Without flagged columns, every column holding a non-finite cell."""

    statistic: str = "mean"  # the only one the probe computes
    family = "nonfinite"
    as_is = "rows with NaN/inf kept"

    @property
    def fixed(self) -> str:
        return f"non-finite cells replaced by the training-split {self.statistic}"

    def __post_init__(self) -> None:
        if self.statistic != "mean":
            raise ValueError(f"Impute({self.statistic!r}): the probe imputes the mean only")

    def changed_rows(self, X: np.ndarray, y: np.ndarray, flagged: np.ndarray) -> np.ndarray | None:
        cols = flagged if flagged.any() else np.ones(X.shape[1], bool)
        return ~np.isfinite(X[:, cols]).all(axis=1)

    def variants(self, s: Split) -> Variants:
        flagged = s.flagged if s.flagged.any() else ~_all_finite(s, np.ones(s.X_train.shape[1], bool))
        bad_tr = ~np.isfinite(s.X_train[:, flagged])
        n = len(s.X_train)
        if not bad_tr.any():
            raise Skip(f"the probe's sample ({n + len(s.X_test)} rows of the file) holds no non-finite value "
                       "in the flagged columns: the file's NaN/inf rows were not sampled")
        a_tr, a_te, _, _ = _imputed(s, ~flagged)
        f_tr, f_te, _, _ = _imputed(s)
        rows_bad = int(bad_tr.any(axis=1).sum())
        return Variants((a_tr, f_tr), (a_te, f_te), flagged,
                        (f"{rows_bad} of {n} training rows hold a non-finite value",))


@dataclass(frozen=True)
class ShuffleRows(Fix):
    """Shuffle the rows every epoch, against mini-batches in file order; whole epochs, as a training
    loop over a loader runs. The features are standardized in both variants."""

    family = "order"
    transforms_columns = False
    order = ("file", "shuffled")
    whole_epochs = True
    as_is = "mini-batches in file order"
    fixed = "rows shuffled every epoch"

    def variants(self, s: Split) -> Variants:
        s_tr, s_te = _all_standardized(s)
        return Variants((s_tr, s_tr), (s_te, s_te),
                        notes=("features standardized in both variants, so only the row order differs",))


@dataclass(frozen=True)
class BufferShuffle(ShuffleRows):
    """A streaming loader's local shuffle (rows in shard order through a shuffle buffer, as
    ``iter_torch_batches(local_shuffle_buffer_size=...)`` or a ``buffer_size`` shuffle gives) against a
    full shuffle every epoch. ``buffer_share`` is the buffer's share of the table's rows, so the buffer
    holds the same share of the probe's ordered sample: as many shards' worth of rows as the real one."""

    buffer_share: float = 0.0
    order = ("buffer", "shuffled")
    as_is = "rows in shard order through a local shuffle buffer"
    fixed = "rows shuffled across shards every epoch"

    def buffer_rows(self, n_train: int) -> int:
        return max(1, round(self.buffer_share * n_train))


@dataclass(frozen=True)
class ClassWeights(Fix):
    """Weight each training row by ``n / (k * count of its class)`` in the loss (what
    ``nn.CrossEntropyLoss(weight=...)`` or a ``WeightedRandomSampler`` gives), against the plain mean
    loss. The features are standardized in both variants; judged on held-out balanced accuracy (the
    mean of the per-class recalls), since plain accuracy rewards predicting the majority class."""

    family = "imbalance"
    transforms_columns = False
    metric = "balanced_accuracy"
    judged_on = "metric"
    as_is = "plain loss (every row weighs 1)"
    fixed = "class-weighted loss (weight n / (k x class count))"

    def changed_rows(self, X: np.ndarray, y: np.ndarray, flagged: np.ndarray) -> np.ndarray | None:
        classes, counts = np.unique(y, return_counts=True)
        rare = classes[counts < counts.max()]
        return np.isin(y, rare)  # the rows whose weight grows: both splits hold some

    def sample_weights(self, y_train: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray] | None:
        codes = y_train.astype(np.int64)
        counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
        per_class = len(codes) / (n_classes * np.maximum(counts, 1.0))
        return np.ones(len(codes)), per_class[codes]

    def head(self, task: str, n_out: int, eval_loss: str) -> tuple[int, str]:
        if task == "regression":
            raise Skip("class weights need a class target, this one is regression")
        return n_out, eval_loss

    def variants(self, s: Split) -> Variants:
        s_tr, s_te = _all_standardized(s)
        return Variants((s_tr, s_tr), (s_te, s_te),
                        notes=("features standardized in both variants, so only the loss weights differ",))


# Output kinds a PF3xx rule can name: what the user wrote (the as-is variant's training loss is the
# kind itself), and the stable loss on logits its fix uses.
OUTPUT_KINDS: dict[str, str] = {
    "sigmoid_bce": "sigmoid + BCELoss",
    "softmax_ce": "softmax + CrossEntropyLoss",
    "softmax_nll": "softmax + NLLLoss",
}
STABLE_LOSS: dict[str, str] = {"sigmoid_bce": "bce_logits", "softmax_ce": "ce_logits", "softmax_nll": "ce_logits"}
STABLE_TEXT: dict[str, str] = {"bce_logits": "logits + BCEWithLogitsLoss", "ce_logits": "logits + CrossEntropyLoss"}


@dataclass(frozen=True)
class StableLoss(Fix):
    """Logits with the matching stable loss, against the user's output activation and loss (``kind``,
    a key of ``OUTPUT_KINDS``). The same features in both variants."""

    kind: str
    transforms_columns = False

    @property
    def family(self) -> str:
        return f"output:{self.kind}"

    @property
    def as_is(self) -> str:
        return OUTPUT_KINDS[self.kind]

    @property
    def fixed(self) -> str:
        return STABLE_TEXT[STABLE_LOSS[self.kind]]

    def head(self, task: str, n_out: int, eval_loss: str) -> tuple[int, str]:
        if self.kind not in OUTPUT_KINDS:
            raise Skip(f"unknown output kind {self.kind!r}; known: {', '.join(OUTPUT_KINDS)}")
        if self.kind.startswith("sigmoid") and task != "binary":
            raise Skip(f"{OUTPUT_KINDS[self.kind]} needs a binary target, this one is {task}")
        if self.kind.startswith("softmax") and task == "regression":
            raise Skip(f"{OUTPUT_KINDS[self.kind]} needs a class target, this one is regression")
        if task == "binary" and self.kind.startswith("softmax"):
            return 2, "ce_logits"  # a two-class softmax head
        return n_out, eval_loss

    def losses(self, eval_loss: str) -> tuple[str, str]:
        return self.kind, STABLE_LOSS[self.kind]

    def variants(self, s: Split) -> Variants:
        a_tr, a_te, _, _ = _imputed(s)
        return Variants((a_tr, a_tr), (a_te, a_te), notes=("the same features in both variants, as given",))


# --- fixes of the value rules (PF106, PF107) ---------------------------------------------------

MAX_ONE_HOT = 64  # one-hot columns per code column, at most (the most frequent training values)


def one_hot(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indicator columns for the training split's values of one column (the ``MAX_ONE_HOT`` most
    frequent); a value the training split lacks, or a non-finite one, gets no indicator."""
    ok = np.isfinite(train)
    values, counts = np.unique(train[ok], return_counts=True)
    values = values[np.argsort(-counts, kind="stable")[:MAX_ONE_HOT]]
    return ((train[:, None] == values[None, :]).astype(np.float64),
            (test[:, None] == values[None, :]).astype(np.float64))


@dataclass(frozen=True)
class OneHot(Fix):
    """One-hot encode the code columns (values from the training split), against feeding them as
    standardized numbers. Both variants have the same width: the as-is one carries zero columns where
    the fixed one carries indicators, and the fixed one a zero column where the code was."""

    family = "codes"
    as_is = "the codes standardized and fed as numbers"
    fixed = "the codes one-hot encoded (training-split values)"

    def variants(self, s: Split) -> Variants:
        s_tr, s_te = _all_standardized(s)
        hot = [one_hot(s.X_train[:, j], s.X_test[:, j]) for j in np.flatnonzero(s.flagged)]
        h_tr = np.concatenate([h[0] for h in hot], axis=1) if hot else np.zeros((len(s_tr), 0))
        h_te = np.concatenate([h[1] for h in hot], axis=1) if hot else np.zeros((len(s_te), 0))
        f_tr, f_te = _dropped(s_tr, s.flagged), _dropped(s_te, s.flagged)
        as_is = (np.hstack([s_tr, np.zeros_like(h_tr)]), np.hstack([s_te, np.zeros_like(h_te)]))
        fixed = (np.hstack([f_tr, h_tr]), np.hstack([f_te, h_te]))
        return Variants((as_is[0], fixed[0]), (as_is[1], fixed[1]), s.flagged,
                        (f"{h_tr.shape[1]} one-hot columns from the training split's values",))


@dataclass(frozen=True)
class WithAndWithout(Fix):
    """The suspected leak's weight in the prediction: the other features alone (the column dropped),
    against every feature with the column kept as the file has it; every feature standardized in both.

    The sides are the other way round from a fix: a leak helps held-out loss, so dropping it makes that
    loss worse. Here "as-is" is the table without the column and "fixed" the table with it, so a
    ``confirmed`` gap says the column alone carries much of the held-out prediction, as a leak would;
    ``not_reproduced`` says the other features predict as well without it."""

    family = "leak"
    as_is = "the suspected leak dropped (the other features alone)"
    fixed = "the suspected leak kept, as the file has it"

    def variants(self, s: Split) -> Variants:
        s_tr, s_te = _all_standardized(s)
        d_tr, d_te = _dropped(s_tr, s.flagged), _dropped(s_te, s.flagged)
        return Variants((d_tr, s_tr), (d_te, s_te), s.flagged,
                        ("sides swapped for a leak: as-is is without the column, fixed is with it; a gap means "
                         "the column alone carries the held-out prediction",))
