"""The partition-statistics core: any partitioning, merged in order, gives the one-pass statistics."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
from functools import reduce

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import preflight
from preflight.errors import PreflightError
from preflight.inputs.frame import frame_subject
from preflight.stats.partition import add_partition, merge_statistics, partition_statistics, table_layout
from preflight.stats.sample import row_hash
from preflight.stats.table import TableStats


@st.composite
def tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 260))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    x[rng.random(n) < draw(st.sampled_from([0.0, 0.1]))] = np.nan
    counts = rng.integers(0, 4, n).astype(float)
    labels = rng.integers(0, draw(st.integers(1, 4)), n)
    if draw(st.booleans()):
        labels = np.sort(labels)  # long runs that cross partition boundaries
    words = rng.choice(["a", "b", "", "NA", "?"], n).astype(object)
    words[rng.random(n) < 0.1] = None
    frame = pl.DataFrame({"x": x, "count": counts, "word": words, "label": labels}, strict=False)
    frame = frame.with_columns(pl.col("x").fill_nan(None).alias("x_null"))
    if draw(st.booleans()):  # duplicated rows and conflicting labels
        k = draw(st.integers(1, n))
        frame = pl.concat([frame, frame.head(k).with_columns(pl.col("label") + draw(st.integers(0, 1)))])
    return frame


def _pieces(frame: pl.DataFrame, cuts: list[int]) -> list[tuple[int, pl.DataFrame]]:
    bounds = [0, *sorted({c % (frame.height + 1) for c in cuts}), frame.height]
    return [(a, frame.slice(a, b - a)) for a, b in itertools.pairwise(bounds)]


def _one_pass(frame: pl.DataFrame, layout) -> TableStats:
    stats = layout.start()
    for start in range(0, frame.height, 7):
        add_partition(stats, frame.slice(start, 7), layout)
    return stats


def _same_except_sample(a: TableStats, b: TableStats) -> None:
    assert a.n_rows == b.n_rows
    for f in ("n", "missing", "nonfinite", "min", "max"):
        np.testing.assert_array_equal(getattr(a.moments, f), getattr(b.moments, f))
    np.testing.assert_allclose(a.moments.mean, b.moments.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.moments.m2, b.moments.m2, rtol=1e-9, atol=1e-9)
    assert a.target_counts.counts == b.target_counts.counts
    assert a.target_runs == b.target_runs
    assert a.target_missing == b.target_missing
    assert a.text_missing == b.text_missing
    assert a.first_bad == b.first_bad
    assert a.row_hashes.counts() == b.row_hashes.counts()


@settings(max_examples=60, deadline=None)
@given(tables(), st.lists(st.integers(0, 10_000), max_size=6), st.sampled_from([16, 40, 8192]))
def test_any_partitioning_with_origins_gives_the_one_pass_statistics(frame, cuts, capacity):
    layout = dataclasses.replace(table_layout(frame.schema, "label"), sample_capacity=capacity)
    whole = _one_pass(frame, layout)
    parts = [partition_statistics(p, layout, origin=a) for a, p in _pieces(frame, cuts)]
    merged = merge_statistics(*parts)
    _same_except_sample(merged, whole)
    rows, block = merged.sample.result()
    want_rows, want_block = whole.sample.result()
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(block.astype(float), want_block.astype(float))
    assert len(rows) <= capacity


@settings(max_examples=60, deadline=None)
@given(tables(), st.lists(st.integers(0, 10_000), min_size=1, max_size=6), st.sampled_from([16, 40]))
def test_partitions_without_origins_keep_an_ordered_sample_at_one_rate(frame, cuts, capacity):
    layout = dataclasses.replace(table_layout(frame.schema, "label"), sample_capacity=capacity)
    pieces = _pieces(frame, cuts)
    merged = merge_statistics(*[partition_statistics(p, layout) for _, p in pieces])
    _same_except_sample(merged, _one_pass(frame, layout))
    rows, block = merged.sample.result()
    assert len(rows) <= capacity
    assert np.all(np.diff(rows) > 0)  # in table order
    step = merged.sample.step
    # every row is the table's row at that position, and each piece keeps the rows its local hash admits
    x = frame.get_column("x").fill_null(np.nan).to_numpy()
    np.testing.assert_array_equal(block[:, 0].astype(float), x[rows])
    for start, piece in pieces:
        local = np.arange(piece.height)
        admitted = start + local[(row_hash(local) & np.uint64(step - 1)) == 0]
        np.testing.assert_array_equal(rows[(rows >= start) & (rows < start + piece.height)], admitted)
    if frame.height <= capacity:
        np.testing.assert_array_equal(rows, np.arange(frame.height))


@settings(max_examples=30, deadline=None)
@given(tables(), st.lists(st.integers(0, 10_000), min_size=2, max_size=4))
def test_merge_is_associative(frame, cuts):
    layout = dataclasses.replace(table_layout(frame.schema, "label"), sample_capacity=16)
    parts = [partition_statistics(p, layout, origin=a) for a, p in _pieces(frame, cuts)]
    left = reduce(TableStats.merge, parts)
    right = reduce(lambda acc, p: p.merge(acc), reversed(parts[:-1]), parts[-1])
    _same_except_sample(left, right)
    np.testing.assert_array_equal(left.sample.result()[0], right.sample.result()[0])


def test_arrow_pandas_and_polars_pieces_measure_the_same():
    frame = pl.DataFrame({"x": [1.0, 2.0, None, 4.0], "word": ["a", None, "NA", "b"], "label": [0, 1, 1, 0]})
    layout = table_layout(frame.to_arrow().schema, "label")
    assert layout == table_layout(frame.schema, "label")
    got = [partition_statistics(p, layout) for p in
           (frame, frame.to_arrow(), frame.to_arrow().to_batches()[0], frame.to_pandas())]
    for other in got[1:]:
        _same_except_sample(other, got[0])
    assert got[0].text_missing == {"word": [1, 1, 2]}
    assert got[0].first_bad == {"x": [2]}


def test_statistics_pickle_for_an_engine_worker():
    frame = pl.DataFrame({"x": np.arange(100.0), "label": np.repeat([0, 1], 50)})
    layout = table_layout(frame.schema, "label")
    stats = partition_statistics(frame, layout)
    back = pickle.loads(pickle.dumps(stats))
    _same_except_sample(back, stats)
    assert back.layout == layout


def test_merged_statistics_give_the_findings_of_the_whole_table():
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"heart_rate": rng.normal(92, 12, 3000), "age": rng.normal(0, 1, 3000),
                          "label": np.sort(rng.integers(0, 2, 3000))})
    layout = table_layout(frame.schema, "label")
    parts = [partition_statistics(frame.slice(a, 500).to_arrow(), layout) for a in range(0, 3000, 500)]
    via_parts = preflight.merge_statistics(*parts)
    report = preflight.check(via_parts, probe=False)
    whole = preflight.check(frame.to_pandas(), target="label", probe=False)
    assert sorted((f.code, f.location.column) for f in report.findings) == \
        sorted((f.code, f.location.column) for f in whole.findings)
    assert {"PF101", "PF201"} <= {f.code for f in report.findings}
    subject = frame_subject(frame, target="label", display="t")
    assert subject.stats.n_rows == via_parts.n_rows == 3000


def test_statistics_misuse_is_one_clear_error():
    frame = pl.DataFrame({"x": [1.0, 2.0], "label": [0, 1]})
    layout = table_layout(frame.schema, "label")
    with pytest.raises(PreflightError, match="target='x'"):
        preflight.check(partition_statistics(frame, layout), target="x", probe=False)
    with pytest.raises(PreflightError, match="no rows"):
        preflight.check(layout.start(), probe=False)
    with pytest.raises(ValueError, match="no column named 'y'"):
        table_layout(frame.schema, "y")
    with pytest.raises(TypeError, match="pyarrow RecordBatch"):
        partition_statistics([1, 2], layout)
    other = table_layout(pl.Schema({"z": pl.Float64, "label": pl.Int64}), "label")
    with pytest.raises(ValueError, match="different numeric columns"):
        partition_statistics(frame, layout).merge(partition_statistics(pl.DataFrame({"z": [1.0], "label": [0]}),
                                                                       other))


def test_a_merge_shares_no_mutable_part_with_its_inputs():
    """Folding more rows into an input after a merge leaves the merged statistics as they were."""
    import polars as pl

    frame = pl.DataFrame({"year": [2000, 2001, 2002, 2000, 2001], "x": [1.0, 2.0, 3.0, 4.0, 5.0],
                          "label": [0, 1, 0, 1, 1]})
    layout = preflight.table_layout(frame.schema, "label")
    a = preflight.partition_statistics(frame, layout, shard="a")
    empty = preflight.partition_statistics(frame.head(0), layout)
    merged = preflight.merge_statistics(a, empty)
    before = (merged.within_runs.runs, merged.within_runs.n, dict(merged.shards.shards["a"].labels))
    from preflight.stats.partition import add_partition

    add_partition(a, frame, layout, "a")
    assert (merged.within_runs.runs, merged.within_runs.n, dict(merged.shards.shards["a"].labels)) == before
