"""The value rules of issue 13 (PF106-PF110), their statistics (row hashes, text missing counts), the
time order of integer time columns, and the fixes PF106/PF107 probe with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import preflight
from preflight.checks import RULES_BY_CODE
from preflight.checks.fixes import OneHot, Split, WithAndWithout
from preflight.config import Config
from preflight.inputs.frame import frame_subject
from preflight.stats.rows import RowHashes
from preflight.stats.timeorder import time_order


def codes(df: pd.DataFrame, **kw: object) -> list[tuple[str, str | None]]:
    report = preflight.check(df, probe=False, **kw)  # type: ignore[arg-type]
    return [(f.code, f.location.column) for f in report.findings]


def findings(df: pd.DataFrame, code: str, target: str | None = None) -> list[preflight.Finding]:
    subject = frame_subject(df, target=target, display="t")
    rule = RULES_BY_CODE[code]
    return list(rule.check(subject, Config().options_for(rule)))


# --- row hashes -------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 2)), min_size=1, max_size=120), st.data())
def test_row_hashes_merged_from_chunks_count_like_brute_force(rows: list[tuple[int, int]], data: st.DataObject) -> None:
    """Rows (features, label) as hashes, cut into two chunks and merged: the counts equal a direct count."""
    mix = np.uint64(0x9E3779B97F4A7C15)
    f = (np.array([a for a, _ in rows], dtype=np.uint64) + np.uint64(1)) * mix
    w = f ^ ((np.array([b for _, b in rows], dtype=np.uint64) + np.uint64(1)) * np.uint64(0xBF58476D1CE4E5B9))
    cut = data.draw(st.integers(0, len(rows)))
    a, b = RowHashes(), RowHashes()
    a.add(f[:cut], w[:cut])
    b.add(f[cut:], w[cut:])
    got = a.merge(b).counts()
    labels: dict[int, set[int]] = {}
    for x, y in rows:
        labels.setdefault(x, set()).add(y)
    duplicates = len(rows) - len(set(rows))
    conflicting = sum(1 for x, _ in rows if len(labels[x]) > 1)
    assert (got.rows, got.duplicates, got.conflicting, got.exact) == (len(rows), duplicates, conflicting, True)


def test_row_hashes_count_exactly_below_capacity() -> None:
    f = np.array([1, 2, 2, 3, 3, 3, 4, 4], dtype=np.uint64)
    w = np.array([10, 20, 20, 30, 30, 31, 40, 40], dtype=np.uint64)
    h = RowHashes()
    h.add(f, w)
    c = h.counts()
    # repeats: the second 20, the second 30, the second 40; conflicting: the three rows of features 3
    assert (c.rows, c.duplicates, c.conflicting, c.exact) == (8, 3, 3, True)


def test_row_hashes_keep_memory_bounded_and_estimate() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    f = np.concatenate([base, base[:1000]])  # 1,000 exact repeats
    h = RowHashes(capacity=1000)
    h.add(f, f)
    c = h.counts()
    assert not c.exact and c.scale > 1
    assert sum(len(a) for a in h.features) <= 1000
    assert 500 <= c.duplicates <= 2000


# --- PF108 duplicate rows -----------------------------------------------------------------------

def continuous(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2],
                         "label": (X[:, 0] + rng.normal(size=n) > 0).astype(int)})


def test_duplicate_rows_counted_and_an_id_column_does_not_hide_them() -> None:
    df = continuous(400)
    dup = pd.concat([df, df.iloc[:40]], ignore_index=True)
    dup.insert(0, "patient_id", np.arange(len(dup)))  # unique: every row differs in it
    (f,) = findings(dup, "PF108", target="label")
    assert f.message.startswith("40 of 440 rows (9.1%) repeat an earlier row exactly")


def test_conflicting_labels_counted() -> None:
    df = continuous(400)
    flipped = df.iloc[:20].assign(label=lambda d: 1 - d.label)
    (f,) = findings(pd.concat([df, flipped], ignore_index=True), "PF108", target="label")
    assert "40 rows (9.5%) share identical features with a row of another label" in f.message
    assert "repeat an earlier row" not in f.message


def test_discrete_table_repeats_by_chance_and_stays_silent() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"smoker": rng.integers(0, 2, 500), "stage": rng.integers(0, 3, 500),
                       "label": rng.integers(0, 2, 500)})
    assert findings(df, "PF108", target="label") == []


def test_a_few_repeats_stay_below_the_share() -> None:
    df = continuous(1000)
    assert findings(pd.concat([df, df.iloc[:3]], ignore_index=True), "PF108", target="label") == []


# --- PF109 / PF110 ------------------------------------------------------------------------------

def test_missing_target_is_pf109_not_pf104() -> None:
    df = continuous(200)
    df["label"] = df["label"].astype(float)
    df.loc[[3, 50, 60], "label"] = np.nan
    found = codes(df)
    assert ("PF109", "label") in found and not any(c == "PF104" for c, _ in found)
    (f,) = findings(df, "PF109", target="label")
    assert f.message == "3 of 200 rows have no target value (first at rows 4, 51, 61)"
    assert "never impute" in f.fix


def test_missing_text_target_counted() -> None:
    df = continuous(100).assign(label=lambda d: np.where(d.label == 1, "yes", "no").astype(object))
    df.loc[[5, 6], "label"] = None
    (f,) = findings(df, "PF109", target="label")
    assert f.message.startswith("2 of 100 rows have no target value")


def test_text_column_missing_and_placeholders_counted() -> None:
    df = continuous(100)
    df["city"] = ["Oslo", None, "NA", " ? "] * 25
    (f,) = findings(df, "PF110", target="label")
    assert f.location.column == "city"
    assert f.message == "75 of 100 cells (25 empty and 50 placeholders such as NA or ?) in this text column are missing"


def test_numbers_read_as_text_because_of_placeholders() -> None:
    df = continuous(100)
    df["income"] = [str(v) for v in np.arange(100.0)]
    df.loc[::10, "income"] = "NA"
    (f,) = findings(df, "PF110", target="label")
    assert "every other cell is a number" in f.message and "na_values" in f.fix


def test_complete_text_column_is_silent() -> None:
    assert findings(continuous(100).assign(city="Oslo"), "PF110", target="label") == []


# --- PF106 category codes -----------------------------------------------------------------------

def coded(n: int = 600, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = continuous(n, seed)
    df["region_code"] = rng.integers(1, 30, n)
    return df


def test_category_code_fires_and_is_not_told_to_standardize() -> None:
    found = codes(coded())
    assert ("PF106", "region_code") in found
    assert ("PF101", "region_code") not in found and not any(c == "PF102" for c, _ in found)


@pytest.mark.parametrize("name", ["children", "rooms", "visits"])
def test_quantities_without_a_code_name_stay_silent(name: str) -> None:
    rng = np.random.default_rng(3)
    df = continuous(600).assign(**{name: rng.integers(0, 8, 600)})
    assert findings(df, "PF106", target="label") == []


def test_a_count_under_a_code_name_stays_silent() -> None:
    rng = np.random.default_rng(4)
    df = continuous(600).assign(hospital_type=np.minimum(rng.poisson(0.7, 600), 6))  # 0 first and most frequent
    assert findings(df, "PF106", target="label") == []


# --- PF107 suspected target leak ------------------------------------------------------------------

def regression(n: int = 500, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "target": X @ [0.7, -0.3] + 0.5 * rng.normal(size=n)})


def test_a_transform_of_the_target_is_a_suspected_leak() -> None:
    df = regression().assign(target_k=lambda d: np.exp(d.target / 3))
    (f,) = findings(df, "PF107", target="target")
    assert f.location.column == "target_k" and "|rho| = 1.000" in f.message and "suspected" in f.message


def test_co_trending_series_are_not_a_leak() -> None:
    n = 400
    rng = np.random.default_rng(6)
    trend = np.linspace(0, 10, n)
    df = pd.DataFrame({"gdp": trend + 0.1 * rng.normal(size=n), "target": trend + 0.1 * rng.normal(size=n)})
    assert findings(df, "PF107", target="target") == []


def test_label_from_a_threshold_is_silent_but_a_value_from_the_label_fires() -> None:
    rng = np.random.default_rng(7)
    rate = rng.normal(92, 12, 800)
    df = pd.DataFrame({"rate": rate, "other": rng.normal(size=800), "label": (rate > 91).astype(int)})
    assert findings(df, "PF107", target="label") == []
    df["followup"] = df.label + 0.05 * rng.normal(size=800)
    assert [f.location.column for f in findings(df, "PF107", target="label")] == ["followup"]


def test_a_near_constant_target_is_not_judged() -> None:
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"x": rng.normal(size=400), "label": (np.arange(400) < 3).astype(int)})
    assert findings(df, "PF107", target="label") == []


# --- time order -----------------------------------------------------------------------------------

def quarterly(n_years: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    n = 4 * n_years
    return pd.DataFrame({"year": np.repeat(np.arange(1960, 1960 + n_years), 4),
                         "quarter": np.tile([1, 2, 3, 4], n_years), "x": rng.normal(size=n),
                         "target": np.linspace(0, 5, n) + 0.2 * rng.normal(size=n)})


def test_quarterly_series_with_integer_year_and_quarter_is_time_ordered() -> None:
    df = quarterly()
    subject = frame_subject(df, target="target", display="q")
    assert subject.time_column == "year"
    assert subject.time_order.columns == ("year", "quarter") and subject.time_order.blocks == 1
    assert findings(df, "PF202", target="target") == []
    # the same rows without their time columns: the trend is read as sorted rows
    assert [f.code for f in findings(df.drop(columns=["year", "quarter"]), "PF202", target="target")] == ["PF202"]


def test_panel_recognised_with_its_entity() -> None:
    X = np.column_stack([np.repeat(np.arange(8), 10), np.tile(np.arange(2000, 2010), 8)]).astype(float)
    order = time_order(("firm", "year"), X)
    assert order is not None and (order.blocks, order.entity) == (8, "firm")
    assert "within each entity 'firm'" in order.describe()


def test_shuffled_time_column_is_not_time_ordered() -> None:
    rng = np.random.default_rng(10)
    X = rng.permutation(np.arange(2000, 2200)).astype(float)[:, None]
    assert time_order(("year",), X) is None


def test_time_words_inside_a_name_do_not_count() -> None:
    X = np.arange(100, dtype=float)[:, None]
    assert time_order(("yearbuilt",), X) is None
    assert time_order(("Year",), X) is not None


def test_label_runs_in_a_panel_name_the_panel() -> None:
    firms, years = 20, 12
    df = pd.DataFrame({"firm": np.repeat(np.arange(firms), years),
                       "year": np.tile(np.arange(2000, 2000 + years), firms),
                       "x": np.random.default_rng(11).normal(size=firms * years),
                       "label": np.repeat(np.arange(firms) % 2, years)})
    (f,) = findings(df, "PF201", target="label")
    assert "a panel: time-ordered by 'year' within each entity 'firm'" in f.message


# --- the fixes --------------------------------------------------------------------------------------

def split() -> Split:
    rng = np.random.default_rng(12)
    X = np.column_stack([rng.integers(1, 5, 40).astype(float), rng.normal(size=40)])
    return Split(X[:30], X[30:], np.array([True, False]))


def test_one_hot_variants_have_one_width_and_indicators_for_training_values() -> None:
    s = split()
    v = OneHot().variants(s)
    (a_tr, f_tr), (a_te, f_te) = v.train, v.test
    k = len(np.unique(s.X_train[:, 0]))
    assert a_tr.shape == f_tr.shape == (30, 2 + k) and a_te.shape == f_te.shape == (10, 2 + k)
    assert np.all(a_tr[:, 2:] == 0) and np.all(f_tr[:, 0] == 0)
    assert np.all(f_tr[:, 2:].sum(axis=1) == 1)  # every training row has exactly one indicator
    assert np.allclose(f_tr[:, 1], a_tr[:, 1])  # the other feature is the same in both


def test_with_and_without_puts_the_column_on_the_fixed_side() -> None:
    v = WithAndWithout().variants(split())
    (without, with_), _ = v.train, v.test
    assert np.all(without[:, 0] == 0) and np.std(with_[:, 0]) > 0.5
    assert np.allclose(without[:, 1], with_[:, 1])
    assert any("sides swapped" in n for n in v.notes)


# --- real tables: scikit-learn ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["wine", "breast_cancer", "iris", "diabetes"])
def test_sklearn_tables_fire_no_value_rule(name: str) -> None:
    from sklearn import datasets  # a declared test dependency: missing, the test fails
    df = getattr(datasets, f"load_{name}")(as_frame=True).frame
    fired = {c for c, _ in codes(df, target="target", select=["PF106", "PF107", "PF108", "PF109", "PF110"])}
    assert fired == set()
