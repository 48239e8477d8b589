"""PF1xx: feature scale and values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import DropColumns, Impute, Standardize
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject


def fmt(x: float) -> str:
    """A number as a person reads it: 92.04, 0.0031, 1.2e+04."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    a = abs(x)
    if float(x).is_integer() and a < 1e5:
        return str(int(x))
    if a >= 1e5 or a < 1e-3:
        return f"{x:.2g}" if a < 1e-3 else f"{x:.3g}"
    if a >= 100:
        return f"{x:.1f}"
    return f"{x:.3g}" if a < 1 else f"{x:.2f}"


# --- measure ---------------------------------------------------------------------------------

def feature_scales(subject: TableSubject) -> list[tuple[str, float, float]]:
    """(name, mean, std) of every numeric, non-binary, non-constant feature with finite values,
    row identifiers (PF105's) and category codes (PF106's) left out: neither is to be standardized."""
    from preflight.checks.codes import default_codes
    from preflight.checks.identifiers import default_identifiers

    stats = subject.stats
    ids = default_identifiers(subject) | default_codes(subject)
    out = []
    for c in subject.features:
        if c.kind != "numeric" or c.name in ids:
            continue
        s = stats.column(c.name)
        if s["n"] > 0 and s["std"] > 0:
            out.append((c.name, s["mean"], s["std"]))
    return out


def scale_ratio(scales: list[tuple[str, float, float]]) -> tuple[float, tuple[str, float], tuple[str, float]]:
    """Largest over smallest std among features, with the two extremes."""
    big = max(scales, key=lambda t: t[2])
    small = min(scales, key=lambda t: t[2])
    return big[2] / small[2], (big[0], big[2]), (small[0], small[2])


# --- judge -----------------------------------------------------------------------------------

class UnnormalizedFeature(Rule):
    """
    ## What it does
    Flags a numeric feature whose location or scale is far from what a gradient-trained network
    expects: a mean far from 0, or a standard deviation far from 1.

    ## Why is this bad?
    A network's weights are initialised for inputs near mean 0 and standard deviation 1 (He et al.,
    2015, section 2.2). A feature centred at 92 with a std of 12 drives the first layer's
    pre-activations into saturation from the first step, and the optimiser spends its steps
    moving the bias instead of learning: a small sigmoid MLP on one heart-rate feature reaches a
    loss of about 0.2 where the standardized feature reaches 0.035 (Adam, lr 0.01, 1000 steps).

    ## Example
    ```csv
    heart_rate,label
    104.2,1
    81.7,0
    ```

    ## How to fix
    Standardize the feature with statistics of the training split, `(x - mean) / std`
    (`sklearn.preprocessing.StandardScaler`), or put `nn.BatchNorm1d(n_features)` first in the model.

    ## Options
    - `max_abs_mean` (default 5.0): fire when |mean| exceeds this.
    - `max_std` (default 10.0): fire when the standard deviation exceeds this.
    - `min_std` (default 0.001): fire when a non-constant feature's standard deviation is below this.
    - `max_columns` (default 10): report up to this many columns one by one; when more are flagged,
      one finding for the table counts them all and names the first 10 with their numbers (784 raw
      pixels give one finding, not 784), and its probe standardizes every numeric feature.
    Binary (0/1) features and constant features (PF103) are never flagged, nor are identifiers
    (PF105: drop them) and category codes (PF106: one-hot them), which are not to be standardized.
    Calibrated on scikit-learn data: `make_classification`, `make_circles`, `make_moons` and
    standardized features stay silent (their |mean| < 3, std < 5); heart rate (mean 92), breast cancer
    `mean area` (mean 655) and wine `proline` (mean 747) fire.

    ## References
    - He et al., *Delving Deep into Rectifiers*, ICCV 2015, section 2.2.
    - LeCun et al., *Efficient BackProp*, 1998, section 4.3 (normalizing the inputs).
    """

    code = "PF101"
    name = "unnormalized-feature"
    summary = "A numeric feature's mean or standard deviation is far from 0 and 1."
    subject = TableSubject
    fix = "standardize the feature ((x - mean) / std, statistics from the training split) or put nn.BatchNorm1d first"
    fix_object = Standardize()
    options = (
        Option("max_abs_mean", 5.0, "fire when |mean| exceeds this", low=0.0),
        Option("max_std", 10.0, "fire when the standard deviation exceeds this", low=0.0),
        Option("min_std", 1e-3, "fire when a non-constant feature's standard deviation is below this", low=0.0),
        Option("max_columns", 10, "report this many columns one by one, the rest in one finding", low=0),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        flagged = []
        for name, mean, std in feature_scales(subject):
            reasons = []
            if abs(mean) > opts["max_abs_mean"]:
                reasons.append(f"mean {fmt(mean)} (|mean| > {fmt(opts['max_abs_mean'])})")
            if not math.isfinite(std):
                reasons.append("std beyond the float64 range")
            elif std > opts["max_std"]:
                reasons.append(f"std {fmt(std)} (> {fmt(opts['max_std'])})")
            elif std < opts["min_std"]:
                reasons.append(f"std {fmt(std)} (< {fmt(opts['min_std'])})")
            if not reasons:
                continue
            if len(reasons) == 1 and not reasons[0].startswith("std"):
                reasons.append(f"std {fmt(std)}")
            flagged.append((name, mean, std, reasons))
        limit = int(opts["max_columns"])
        if len(flagged) > limit:
            yield self._grouped(subject, flagged, limit)
            return
        for name, mean, std, reasons in flagged:
            yield self.finding(
                f"{', '.join(reasons)}; a network expects inputs near mean 0, std 1",
                path=subject.display, column=name,
                fix=f"standardize {name}: (x - {fmt(mean)}) / {fmt(std)} with training-split statistics, "
                    "or put nn.BatchNorm1d first" if math.isfinite(std) else
                    f"rescale {name} first (its values overflow float32 and its variance float64), then standardize",
            )

    def _grouped(self, subject: TableSubject, flagged: list[tuple[str, float, float, list[str]]],
                 limit: int) -> Finding:
        """One finding for a wide table: every flagged feature counted, the first ``limit`` with their
        numbers; its fix (and its probe, ``probe_columns``) standardizes every numeric feature."""
        shown = "; ".join(f"{name!r} mean {fmt(mean)}, std {fmt(std)}" for name, mean, std, _ in flagged[:limit])
        more = len(flagged) - limit
        return self.finding(
            f"{len(flagged)} features far from mean 0, std 1: {shown}" + (f"; and {more} more" if more else ""),
            path=subject.display, fix="standardize every numeric feature, or put nn.BatchNorm1d first")

    def probe_columns(self, subject: Any, flagged: Sequence[str]) -> list[str]:
        """The flagged columns; none flagged by name (the one finding of a wide table): every feature this
        rule compared, as that finding's fix standardizes them all."""
        if flagged or not isinstance(subject, TableSubject):
            return list(flagged)
        return [name for name, _, _ in feature_scales(subject)]


class MixedFeatureScales(Rule):
    """
    ## What it does
    Flags a table whose numeric features' standard deviations differ by orders of magnitude, and
    names the largest and the smallest.

    ## Why is this bad?
    With one learning rate for every weight, the feature with the largest scale dominates the
    first layer's pre-activations and its gradients, while a feature a thousand times smaller is
    learned a thousand times more slowly: the loss surface is a long, narrow valley.

    ## Example
    A table with `area` (std 352) next to `smoothness` (std 0.014): a ratio of 25,000.

    ## How to fix
    Standardize every numeric feature with statistics of the training split
    (`StandardScaler`), or put `nn.BatchNorm1d(n_features)` first in the model.

    ## Options
    - `max_scale_ratio` (default 100.0): fire when the largest std over the smallest exceeds this.
    Binary and constant features are left out. Calibrated on scikit-learn data: `make_classification`
    (ratio 5.6) and iris (ratio 4.1) stay silent; digits (105), wine (2,530) and breast cancer
    (215,000) fire.

    ## References
    - LeCun et al., *Efficient BackProp*, 1998, section 4.3.
    """

    code = "PF102"
    name = "mixed-feature-scales"
    summary = "Numeric features' standard deviations differ by orders of magnitude."
    subject = TableSubject
    fix = "standardize every numeric feature with training-split statistics, or put nn.BatchNorm1d first"
    fix_object = Standardize()
    options = (Option("max_scale_ratio", 100.0, "fire when the largest std over the smallest exceeds this", low=0.0),)

    def probe_columns(self, subject: Any, flagged: Sequence[str]) -> list[str]:
        """Every feature this rule compared (numeric, not constant), whatever its finding names: the fix
        standardizes them all."""
        return [name for name, _, _ in feature_scales(subject)] if isinstance(subject, TableSubject) else list(flagged)

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        scales = feature_scales(subject)
        if len(scales) < 2:
            return
        ratio, (big, big_std), (small, small_std) = scale_ratio(scales)
        if ratio > opts["max_scale_ratio"]:
            yield self.finding(
                f"feature scales differ {fmt(ratio)}x: std of {big!r} is {fmt(big_std)}, "
                f"std of {small!r} is {fmt(small_std)} (> {fmt(opts['max_scale_ratio'])}x)",
                path=subject.display, column=big,
            )


class ConstantFeature(Rule):
    """
    ## What it does
    Flags a numeric feature with zero variance, or with no values at all (every cell missing).

    ## Why is this bad?
    A constant feature carries no information, and the usual standardization `(x - mean) / std`
    divides by zero on it, which turns the whole column into NaN and, one step later, the loss and
    every weight.

    ## Example
    The 8x8 digits data has pixels that are 0 in every image (`pixel_0_0`).

    ## How to fix
    Drop the column before training (or guard the std: `std.clamp_min(eps)`).

    ## Options
    None.

    ## References
    - scikit-learn `VarianceThreshold`.
    """

    code = "PF103"
    name = "constant-feature"
    summary = "A feature has zero variance or no values at all."
    subject = TableSubject
    fix = "drop the column (standardizing it divides by zero)"
    fix_object = DropColumns()

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        stats = subject.stats
        for c in subject.columns:
            if c.name == subject.target:
                continue
            if c.kind == "empty" and not stats.has(c.name):
                yield self.finding(f"all {subject.n_rows} values are missing", path=subject.display,
                                   column=c.name, fix=f"drop {c.name}")
                continue
            if not stats.has(c.name):
                continue
            s = stats.column(c.name)
            if s["n"] == 0:
                yield self.finding(f"no finite values in {subject.n_rows} rows", path=subject.display,
                                   column=c.name, fix=f"drop {c.name}")
            elif s["min"] == s["max"]:  # exact; a std of 0 can be an underflow (values near 1e-308)
                yield self.finding(f"every one of the {s['n']} finite values is {fmt(s['min'])} (std 0)",
                                   path=subject.display, column=c.name, fix=f"drop {c.name}")


class NonFiniteValues(Rule):
    """
    ## What it does
    Flags missing values, NaN and +/-inf in a numeric feature, with their counts and the first rows
    that hold them. A missing target is PF109's (drop those rows, never impute them); missing text
    cells are PF110's.

    ## Why is this bad?
    One NaN in a batch makes that batch's loss NaN; its gradient makes every weight NaN, and
    training never recovers. `torch.tensor` turns an empty CSV cell into NaN without a word.

    ## Example
    ```csv
    age,income,label
    34,52000,1
    51,,0
    ```

    ## How to fix
    Drop the rows, or impute the values (the training split's mean or median; the probe uses the
    mean) and add a 0/1 "was missing" column when missingness may carry information.

    ## Options
    None. Rows are numbered from 1, the first data row after the header.

    ## References
    - PyTorch `torch.autograd.detect_anomaly`, which finds the NaN after it happened.
    """

    code = "PF104"
    name = "non-finite-values"
    summary = "A numeric feature holds missing values, NaN or infinity."
    subject = TableSubject
    fix = "drop the rows or impute the values (the training split's mean or median) before training"
    fix_object = Impute("mean")

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        stats = subject.stats
        m = stats.moments
        for i, name in enumerate(stats.numeric):
            if name == subject.target:
                continue  # a missing target is PF109's: drop those rows, never impute them
            parts = []
            nan = int(m.nonfinite[i] - m.pos_inf[i] - m.neg_inf[i])
            for count, word in ((int(m.missing[i]), "missing"), (nan, "NaN"), (int(m.pos_inf[i]), "+inf"),
                                (int(m.neg_inf[i]), "-inf")):
                if count:
                    parts.append(f"{count} {word}")
            if not parts:
                continue
            if int(m.n[i]) == 0:
                continue  # a feature with no finite value at all is PF103's
            rows = stats.first_bad.get(name, [])
            where = f" (first at rows {', '.join(str(r + 1) for r in rows)})" if rows else ""
            yield self.finding(f"{', '.join(parts)} of {subject.n_rows} rows in this feature{where}",
                               path=subject.display, column=name)
