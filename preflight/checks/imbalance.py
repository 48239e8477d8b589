"""PF111: a class target whose smallest class is a small share of the largest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import ClassWeights
from preflight.checks.scale import fmt
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject


@dataclass(frozen=True)
class Imbalance:
    """The class counts of a target, smallest against largest."""

    n: int
    classes: int
    smallest: Any
    smallest_count: int
    largest: Any
    largest_count: int

    @property
    def ratio(self) -> float:
        """Smallest class count / largest class count (1: balanced)."""
        return self.smallest_count / self.largest_count if self.largest_count else 1.0

    @property
    def share(self) -> float:
        """The smallest class's share of the rows."""
        return self.smallest_count / self.n if self.n else 0.0


def measure(counts: Mapping[Any, int]) -> Imbalance | None:
    """The imbalance of class ``counts`` (label -> rows), or None with fewer than two classes."""
    present = {k: int(v) for k, v in counts.items() if v > 0}
    if len(present) < 2:
        return None
    order = sorted(present.items(), key=lambda kv: (kv[1], str(kv[0])))
    (lo, lo_n), (hi, hi_n) = order[0], order[-1]
    return Imbalance(sum(present.values()), len(present), lo, lo_n, hi, hi_n)


def judge(m: Imbalance, max_ratio: float, min_rows: int) -> bool:
    return m.n >= min_rows and m.ratio < max_ratio


class ImbalancedClasses(Rule):
    """
    ## What it does
    Flags a classification target whose smallest class has fewer rows than `max_ratio` times the
    largest class's (ISLR's `Default`: 333 defaults in 10,000 rows, a ratio of 0.034).

    ## Why is this bad?
    With the plain mean loss, most of the gradient comes from the majority class: a network trained
    by default reaches a high accuracy by predicting the majority and seldom learns the small class.
    Accuracy then hides it; the balanced accuracy (the mean of the per-class recalls) shows it. On
    `Default`, an MLP trained with Adam's defaults for 30 epochs reaches a held-out balanced accuracy
    of 0.69 with the plain loss and 0.85 with a class-weighted one.

    ## Example
    A fraud, churn or rare-disease label: 3% positives, 97% negatives.

    ## How to fix
    Weight the loss by class, `nn.CrossEntropyLoss(weight=n / (k * counts))` (for one logit,
    `BCEWithLogitsLoss(pos_weight=negatives / positives)`), or draw balanced batches with a
    `WeightedRandomSampler`; judge the model on balanced accuracy or macro-F1, not accuracy.
    If only the ranking matters (a score, an AUC), the imbalance may be harmless: the probe tells.

    ## Options
    - `max_ratio` (default 0.2): fire when the smallest class count / the largest is below this.
    - `min_rows` (default 50): and only for a target with at least this many labelled rows.
    Calibrated on the calibration half of the real tables in `bench/agreement` (scikit-learn's sets
    and R datasets, `bench/agreement/imbalance.py`: a default Adam training, plain against
    class-weighted loss, held-out balanced accuracy after 30 epochs, 3 seeds). There, class weights
    raised the balanced accuracy by 0.01 or more in every seed on `ISLR/Default` (ratio 0.034:
    0.69 -> 0.85) and `AER/HMDA` (0.136: 0.55 -> 0.73), not on `ISLR/Caravan` (0.064: its features
    hardly separate the classes, 0.52 -> 0.54) nor on any table at 0.289 or above (`AER/CreditCard`,
    penguins, `ISLR/OJ`, `datasets/infert`, `ISLR/Smarket`); 0.2 sits between. On the held-out half
    it fires on `MASS/fgl` (0.118; weights help, 0.60 -> 0.78), `survival/pbc` (0.108; 0.51 -> 0.60)
    and `MASS/Melanoma` (0.104; no clear help: the probe decides) and misses `rpart/kyphosis` (0.266,
    where weights help); balanced targets (iris, digits, crabs: ratio 0.95-1) stay silent.

    ## References
    - He and Garcia, *Learning from Imbalanced Data*, IEEE TKDE 2009.
    - Brodersen et al., *The balanced accuracy and its posterior distribution*, ICPR 2010.
    """

    code = "PF111"
    name = "imbalanced-classes"
    summary = "The smallest class is a small fraction of the largest, so a plain loss learns the majority."
    subject = TableSubject
    fix = ("weight the loss by class (CrossEntropyLoss(weight=n / (k * counts)), BCEWithLogitsLoss(pos_weight=...)) "
           "or draw balanced batches (WeightedRandomSampler); report balanced accuracy or macro-F1")
    fix_object = ClassWeights()
    options = (
        Option("max_ratio", 0.2, "fire when the smallest class count / the largest is below this", low=0.0, high=1.0),
        Option("min_rows", 50, "and only for a target with at least this many labelled rows", low=2),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        if subject.task not in ("binary", "multiclass") or subject.stats.target_counts.overflow:
            return
        m = measure(subject.stats.target_counts.counts)
        if m is None or not judge(m, float(opts["max_ratio"]), int(opts["min_rows"])):
            return
        yield self.finding(
            f"smallest class {m.smallest!r} has {m.smallest_count:,} of {m.n:,} rows ({fmt(100 * m.share)}%), "
            f"largest {m.largest!r} {m.largest_count:,}: ratio {m.ratio:.3f} (< {fmt(float(opts['max_ratio']))}); "
            "a plain loss learns the majority, and accuracy hides it",
            path=subject.display, column=subject.target)
