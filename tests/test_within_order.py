"""Label order judged within a panel's entities (issue 13, item 4): the streamed ``BlockRuns``
statistic, and PF201/PF202 on panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.checks import RULES_BY_CODE
from preflight.config import Config
from preflight.inputs.frame import frame_subject
from preflight.stats.order import BlockRuns, Runs, runs_moments, runs_test


def findings(df: pd.DataFrame, code: str, target: str) -> list:
    rule = RULES_BY_CODE[code]
    return list(rule.check(frame_subject(df, target=target, display="t"), Config().options_for(rule)))


def brute_force(labels: np.ndarray, key: np.ndarray) -> tuple[int, float, float, int]:
    """Blocks cut where the key decreases; runs, expected runs and variance summed over blocks."""
    starts = [0] + [i for i in range(1, len(key)) if key[i] < key[i - 1]]
    ends = [*starts[1:], len(key)]
    runs, expected, var = 0, 0.0, 0.0
    for a, b in zip(starts, ends):
        y = labels[a:b]
        runs += Runs.from_labels(y).runs
        e, v = runs_moments(list(np.unique(y, return_counts=True)[1]))
        expected, var = expected + e, var + v
    return runs, expected, var, len(starts)


panels = st.lists(st.tuples(st.integers(1, 12), st.integers(0, 2)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(panels, st.integers(0, 2**32 - 1), st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_streamed_in_any_chunks_equals_blocks_counted_one_by_one(blocks, seed, chunks) -> None:
    rng = np.random.default_rng(seed)
    key = np.concatenate([np.arange(length) for length, _ in blocks]).astype(float)
    labels = np.concatenate([rng.integers(0, k + 1, length) for length, k in blocks])
    whole = BlockRuns(key=("t",))
    whole.update(labels, key[:, None])
    pieces = BlockRuns(key=("t",))
    at, i = 0, 0
    while at < len(labels):
        step = chunks[i % len(chunks)]
        pieces.update(labels[at:at + step], key[at:at + step, None])
        at, i = at + step, i + 1
    t1, t2 = whole.test(), pieces.test()
    runs, expected, var, n_blocks = brute_force(labels, key)
    for b in (whole, pieces):
        assert (b.runs, b.blocks, b.n) == (runs, n_blocks, len(labels))
        assert np.isclose(b.expected, expected) and np.isclose(b.var, var)
    if len(labels) < 2:
        assert t1 is None and t2 is None
        return
    assert t1 is not None and t2 is not None and np.isclose(t1.z, t2.z) and t1.longest_fraction == t2.longest_fraction


def test_one_block_is_the_plain_runs_test() -> None:
    labels = np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 1])
    b = BlockRuns(key=("t",))
    b.update(labels, np.arange(10.0)[:, None])
    plain = runs_test(Runs.from_labels(labels), [5, 5])
    got = b.test()
    assert got is not None and (got.runs, got.expected, got.z) == (plain.runs, plain.expected, plain.z)


def test_a_label_constant_within_each_block_is_no_evidence() -> None:
    b = BlockRuns(key=("t",))
    b.update(np.repeat([0, 1, 0, 1], 10), np.tile(np.arange(10.0), 4)[:, None])
    t = b.test()
    assert t is not None and (t.runs, t.expected, t.z, t.ratio) == (4, 4.0, 0.0, 1.0)


def test_missing_labels_are_skipped_but_their_boundary_counts() -> None:
    # two blocks of 3; the first row of the second block has no label
    b = BlockRuns(key=("t",))
    labels = np.array([1, 1, 1, 1, 0, 0])
    b.update(labels, np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]]),
             np.array([False, False, False, True, False, False]))
    assert b.test() is not None and (b.blocks, b.runs, b.n) == (2, 2, 5)


def panel(sort_within: bool, constant: bool = False, firms: int = 20, years: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=firms * years)
    y = (x + rng.normal(size=len(x)) > 0).astype(int)
    if sort_within:
        y = np.concatenate([np.sort(y[e * years:(e + 1) * years]) for e in range(firms)])
    if constant:
        y = np.repeat(np.arange(firms) % 2, years)
    return pd.DataFrame({"firm": np.repeat(np.arange(firms), years),
                         "year": np.tile(np.arange(1950, 1950 + years), firms), "x": x, "label": y})


def test_pf201_on_a_panel_judges_labels_within_each_entity_and_says_so() -> None:
    (f,) = findings(panel(sort_within=True), "PF201", "label")
    assert "within each entity 'firm' of the panel (20 blocks, time-ordered by 'year')" in f.message
    assert f.message.startswith("within each") and " 40 runs of equal labels" in f.message
    assert findings(panel(sort_within=False), "PF201", "label") == []


def test_pf201_names_labels_grouped_between_a_panels_entities() -> None:
    df = panel(sort_within=False, constant=True)
    within = frame_subject(df, target="label", display="t").stats.within_runs
    t = within.test() if within is not None else None
    assert t is not None and (t.runs, t.expected, t.z) == (20, 20.0, 0.0)  # no order within entities
    (f,) = findings(df, "PF201", "label")
    assert f.message.startswith("20 runs of equal labels where a random order gives")
    assert ("within each entity 'firm', and the labels come grouped by entity (within each: 20 runs where "
            "a random order within each gives 20): split by entity") in f.message


def test_a_time_named_column_that_is_not_integer_falls_back_to_the_sample() -> None:
    df = panel(sort_within=True)
    df["day"] = np.random.default_rng(4).normal(size=len(df))  # 'day' is named like time, not integer
    subject = frame_subject(df, target="label", display="t")
    assert subject.time_order.columns == ("year",)
    within = subject.stats.within_runs
    assert within is not None and within.key == ("year",)
    t = within.test()
    assert t is not None and (t.runs, within.blocks) == (40, 20)


def test_pf202_is_silent_on_a_panel_whose_target_trends_within_entities() -> None:
    df = panel(sort_within=False).assign(label=lambda d: d["year"] * 0.1 + d["x"])
    assert findings(df, "PF202", "label") == []
    # one firm's rows without their time columns: the same within-entity trend fires PF202
    one = df[df["firm"] == 0].drop(columns=["firm", "year"])
    assert [f.code for f in findings(one, "PF202", "label")] == ["PF202"]
