"""Statistics: merged from chunks they equal those of the whole; order statistics behave."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from preflight.inputs.options import ReadOptions
from preflight.inputs.tabular import batched, scan_table
from preflight.stats.moments import Moments
from preflight.stats.order import Runs, rankdata, runs_test, spearman
from preflight.stats.sample import OrderedSample, row_hash

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
cells = st.one_of(finite, st.just(np.nan), st.just(np.inf), st.just(-np.inf))


def assert_moments_close(a: Moments, b: Moments) -> None:
    for name in ("n", "missing", "nonfinite", "pos_inf", "neg_inf"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(a.std, b.std, rtol=1e-7, atol=1e-5)
    np.testing.assert_array_equal(a.min, b.min)
    np.testing.assert_array_equal(a.max, b.max)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 4)), elements=cells),
       st.lists(st.integers(1, 59), max_size=6))
def test_moments_merged_from_any_chunking_equal_the_whole(a, cuts):
    bounds = sorted({c for c in cuts if c < len(a)})
    parts = np.split(a, bounds)
    merged = Moments.empty(a.shape[1])
    for p in parts:
        merged = merged.merge(Moments.from_array(p))
    assert_moments_close(merged, Moments.from_array(a))


def test_moments_match_numpy_on_known_values():
    a = np.array([[1.0, np.nan], [2.0, np.inf], [3.0, 5.0], [4.0, -np.inf]])
    m = Moments.from_array(a)
    assert m.n.tolist() == [4, 1]
    assert m.nonfinite.tolist() == [0, 3]
    assert m.pos_inf.tolist() == [0, 1] and m.neg_inf.tolist() == [0, 1]
    assert m.mean[0] == 2.5 and m.std[0] == pytest.approx(np.std([1, 2, 3, 4]))
    assert m.min.tolist() == [1.0, 5.0] and m.max.tolist() == [4.0, 5.0]


frames = st.integers(2, 80).flatmap(lambda n: st.tuples(
    hnp.arrays(np.float64, (n, 3), elements=cells),
    hnp.arrays(np.int64, (n,), elements=st.integers(0, 2)),
))


@settings(max_examples=60, deadline=None)
@given(frames, st.integers(1, 90), st.integers(1, 90))
def test_streamed_table_statistics_do_not_depend_on_batch_size(data, size_a, size_b):
    X, y = data
    frame = pl.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": y})
    one = scan_table(batched(frame, size_a), frame.schema, path=None, display="t", options=ReadOptions())
    two = scan_table(batched(frame, size_b), frame.schema, path=None, display="t", options=ReadOptions())
    assert_moments_close(one.stats.moments, two.stats.moments)
    assert_moments_close(one.stats.moments, Moments.from_array(np.column_stack([X, y]).astype(float)))
    assert one.stats.target_runs == two.stats.target_runs == Runs.from_labels(y)
    assert one.stats.first_bad == two.stats.first_bad
    assert one.task == two.task


@given(st.lists(st.integers(0, 3), min_size=1, max_size=120), st.lists(st.integers(1, 119), max_size=8))
def test_runs_merge_from_any_chunking_equals_the_whole(labels, cuts):
    y = np.array(labels)
    bounds = sorted({c for c in cuts if c < len(y)})
    merged = Runs()
    for part in np.split(y, bounds):
        merged = merged.merge(Runs.from_labels(part))
    assert merged == Runs.from_labels(y)
    # brute force: runs and the longest run
    runs, longest, cur = 1, 1, 1
    for prev, nxt in itertools.pairwise(labels):
        cur = cur + 1 if nxt == prev else 1
        runs += nxt != prev
        longest = max(longest, cur)
    assert (merged.runs, merged.longest) == (runs, longest)


@given(st.lists(st.integers(0, 2), min_size=4, max_size=200))
def test_sorting_by_label_never_lowers_the_evidence_of_clustering(labels):
    y = np.array(labels)
    counts = np.bincount(y)
    counts = counts[counts > 0].tolist()
    if len(counts) < 2:
        return
    before = runs_test(Runs.from_labels(y), counts)
    after = runs_test(Runs.from_labels(np.sort(y)), counts)
    assert after.runs <= before.runs
    assert after.z <= before.z + 1e-12


def test_runs_test_two_classes_matches_the_textbook_formula():
    y = np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 1])
    n1, n2 = 5, 5
    n = n1 + n2
    expected = 2 * n1 * n2 / n + 1
    var = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n * n * (n - 1))
    t = runs_test(Runs.from_labels(y), [n1, n2])
    assert t.runs == 6
    assert t.expected == pytest.approx(expected)
    assert t.z == pytest.approx((6 - expected) / math.sqrt(var))


def test_random_order_gives_small_z_and_sorted_gives_large_negative_z():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 5000)
    counts = np.bincount(y).tolist()
    shuffled = runs_test(Runs.from_labels(y), counts)
    sorted_ = runs_test(Runs.from_labels(np.sort(y)), counts)
    assert abs(shuffled.z) < 4 and 0.9 < shuffled.ratio < 1.1
    assert sorted_.runs == 3 and sorted_.z < -50


def test_rankdata_averages_ties_and_spearman_is_one_for_monotone():
    assert rankdata(np.array([10, 20, 20, 5])).tolist() == [2.0, 3.5, 3.5, 1.0]
    x = np.arange(50.0)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -np.exp(x / 10)) == pytest.approx(-1.0)
    assert spearman(x, np.ones(50)) == 0.0


@given(st.integers(0, 5000), st.integers(2, 64), st.integers(1, 700))
def test_ordered_sample_is_bounded_in_order_and_exactly_the_hashed_rows(n, capacity, chunk):
    s = OrderedSample(capacity)
    for offset in range(0, n, chunk):
        m = min(chunk, n - offset)
        keep = s.take(offset, m)
        s.add(offset + keep, (offset + keep)[:, None].astype(float))
    rows, block = s.result()
    assert len(rows) <= capacity
    assert np.all(np.diff(rows) > 0)  # file order
    # exactly the rows whose hash the final step divides: none missed, none extra
    everything = np.arange(n, dtype=np.int64)
    expected = everything[(row_hash(everything) & np.uint64(s.step - 1)) == 0]
    assert np.array_equal(rows, expected)
    assert (block is None) if n == 0 else np.array_equal(block[:, 0], rows)


def test_ordered_sample_does_not_alias_alternating_labels():
    s = OrderedSample(256)
    labels = np.arange(100_000) % 2  # 0, 1, 0, 1, ...
    for offset in range(0, len(labels), 10_000):
        keep = s.take(offset, 10_000)
        s.add(offset + keep, labels[offset + keep][:, None])
    _, block = s.result()
    assert s.step >= 256
    assert 0.35 < block[:, 0].mean() < 0.65  # both classes, in about their share


@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.none(), st.sampled_from([float("nan"), float("inf")])),
                min_size=1, max_size=40),
       st.lists(st.integers(-5, 5), min_size=40, max_size=40))
def test_the_fast_moments_select_gives_the_full_selects_numbers(values, ints):
    """``batch_moments`` tries six plain aggregations first and runs the full select only where a float
    column's mean or variance is not finite: the moments are the full select's either way."""
    import polars as pl

    from preflight.stats import batch_moments as bm

    frame = pl.DataFrame({"x": pl.Series(values, dtype=pl.Float64), "k": ints[:len(values)],
                          "b": [i % 2 == 0 for i in ints[:len(values)]]})
    names = ["x", "k", "b"]
    plan = bm.moment_plan(names, frame.schema)
    fast = bm.batch_moments(frame, plan, names)
    full = bm.batch_moments(frame, plan._replace(fast=plan.exprs, fast_where=plan.where), names)
    for field in ("n", "missing", "nonfinite", "pos_inf", "neg_inf", "mean", "m2", "min", "max"):
        assert np.array_equal(getattr(fast, field), getattr(full, field), equal_nan=True), field
    finite = [v for v in values if v is not None and np.isfinite(v)]
    assert fast.n[0] == len(finite) and fast.missing[0] == values.count(None)
