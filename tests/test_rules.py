"""The data rules on real data nobody here wrote (scikit-learn's bundled sets) and on properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import datasets  # a declared test dependency (extra "test"): missing, it fails

import preflight
from preflight.checks.scale import fmt


def codes(df: pd.DataFrame, target: str | None = "target", **kw) -> set[str]:
    report = preflight.check(df, target=target, probe=False, **kw)
    return {f.code for f in report.findings}


def bundled(name: str) -> pd.DataFrame:
    return getattr(datasets, f"load_{name}")(as_frame=True).frame


@pytest.mark.parametrize("name", ["wine", "iris"])
def test_wine_and_iris_in_shipped_order_fire_label_sorted_rows(name):
    df = bundled(name)
    assert "PF201" in codes(df)
    assert "PF201" not in codes(df.sample(frac=1, random_state=0))


def test_breast_cancer_fires_scale_rules_and_not_label_sorted_rows():
    found = codes(bundled("breast_cancer"))
    assert found & {"PF101", "PF102"}
    assert "PF201" not in found


def test_digits_fires_constant_feature_on_the_blank_pixels():
    report = preflight.check(bundled("digits"), target="target", probe=False)
    constant = sorted(f.location.column for f in report.findings if f.code == "PF103")
    df = bundled("digits").drop(columns="target")
    assert constant == sorted(df.columns[df.std() == 0])
    assert "pixel_0_0" in constant


@pytest.mark.parametrize("make", ["classification", "circles", "moons"])
def test_generated_benchmarks_stay_silent(make):
    gen = getattr(datasets, f"make_{make}")
    kw = {"n_samples": 1000, "random_state": 0}
    if make != "classification":
        kw["noise"] = 0.1
    X, y = gen(**kw)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(target=y)
    assert codes(df) == set()


def test_diabetes_sorted_by_target_fires_target_sorted_rows_and_shipped_order_does_not():
    df = bundled("diabetes")
    assert "PF202" not in codes(df)
    assert "PF202" in codes(df.sort_values("target"))


def test_heart_rate_fires_pf101_on_that_column_with_the_numbers():
    rng = np.random.default_rng(0)
    rate = rng.normal(92, 12, 500)
    df = pd.DataFrame({"heart_rate": rate, "label": (rate > 91).astype(int)})
    report = preflight.check(df, probe=False)
    (f,) = report.findings
    assert (f.code, f.location.column) == ("PF101", "heart_rate")
    assert fmt(rate.mean()) in f.message and fmt(rate.std()) in f.message
    assert fmt(rate.mean()) in f.fix


def test_binary_features_are_never_unnormalized():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.integers(0, 2, 300), "b": rng.integers(0, 2, 300) * 1.0,
                       "label": rng.integers(0, 2, 300)})
    assert codes(df, target="label") == set()


def test_pf101_reports_wide_tables_in_bounded_findings():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.integers(0, 256, (200, 40)).astype(float), columns=[f"p{i}" for i in range(40)])
    report = preflight.check(df.assign(label=rng.integers(0, 10, 200)), probe=False, select=["PF101"])
    (grouped,) = report.findings
    assert grouped.location.column is None
    assert grouped.message.startswith("40 features far from mean 0, std 1: 'p0' mean ")
    assert grouped.message.endswith("; and 30 more") and "'p9'" in grouped.message and "'p10'" not in grouped.message


def test_pf101_grouped_probe_covers_every_flagged_column():
    from preflight.checks import RULES_BY_CODE
    from preflight.inputs.frame import frame_subject

    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.integers(0, 256, (200, 14)).astype(float), columns=[f"p{i}" for i in range(14)])
    df["z"] = rng.normal(size=200)
    subject = frame_subject(df.assign(label=rng.integers(0, 2, 200)), target="label", display="t")
    rule = RULES_BY_CODE["PF101"]
    assert rule.probe_columns(subject, []) == [f"p{i}" for i in range(14)] + ["z"]
    assert rule.probe_columns(subject, ["p3"]) == ["p3"]


def test_time_ordered_trend_does_not_fire_target_sorted_rows():
    n = 400
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"),
                       "x": np.random.default_rng(3).normal(size=n),
                       "target": np.linspace(0, 10, n)})
    assert codes(df) == set()
    assert "PF202" in codes(df.drop(columns="date"))


def test_no_target_runs_the_target_free_rules_and_says_so():
    df = pd.DataFrame({"a": np.arange(100) * 50.0, "b": np.zeros(100)})
    report = preflight.check(df, probe=False)
    assert {f.code for f in report.findings} == {"PF101", "PF103"}
    (summary,) = report.summary["files"]
    assert summary["target"] is None and "target-free" in summary["target_reason"]


def test_non_finite_values_are_counted_with_their_first_rows():
    df = pd.DataFrame({"a": [0.1, np.nan, 0.3, np.inf, -0.2, -np.inf] * 10, "label": [0, 1] * 30})
    (f,) = preflight.check(df, probe=False).findings
    assert f.code == "PF104"
    assert "10 NaN, 10 +inf, 10 -inf of 60 rows" in f.message
    assert "first at rows 2, 4, 6" in f.message


# --- properties -----------------------------------------------------------------------------------

columns = st.integers(2, 5).flatmap(lambda k: hnp.arrays(
    np.float64, st.tuples(st.integers(20, 60), st.just(k)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)))


@settings(max_examples=40, deadline=None)
@given(columns, st.randoms(use_true_random=False))
def test_permuting_columns_permutes_per_column_results(X, rnd):
    names = [f"c{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    perm = list(names)
    rnd.shuffle(perm)

    def per_column(frame):
        report = preflight.check(frame, probe=False, ignore=["PF102"])
        return sorted((f.code, f.location.column, f.message) for f in report.findings)

    assert per_column(df) == per_column(df[perm])


@settings(max_examples=40, deadline=None)
@given(columns)
def test_standardizing_features_silences_pf101(X):
    std = X.std(axis=0)
    X = X[:, std > 1e-6 * (1 + np.abs(X).max(axis=0))]
    if X.shape[1] == 0:
        return
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    df = pd.DataFrame(Z, columns=[f"c{i}" for i in range(Z.shape[1])])
    assert "PF101" not in {f.code for f in preflight.check(df, probe=False).findings}
