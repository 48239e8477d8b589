"""PF105 id-like-column: the measure (id_evidence) and the judge (is_id_like), apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import preflight
from preflight.checks import RULES_BY_CODE
from preflight.checks.identifiers import id_evidence, is_id_like, is_time_name

OPTS = RULES_BY_CODE["PF105"].defaults()


def rows(n):
    return np.arange(n)


def test_a_saved_index_is_a_counter_from_zero_or_one():
    for start in (0, 1):
        ev = id_evidence("Unnamed: 0", np.arange(start, start + 50, dtype=float), rows(50))
        assert ev is not None and ev.counter and ev.unique_share == 1.0 and ev.named
        assert is_id_like(ev, OPTS)


def test_a_counter_starting_elsewhere_is_not_a_counter_but_a_name_still_counts():
    ev = id_evidence("value", np.arange(18, 68, dtype=float), rows(50))  # a grouping feature, 18..67
    assert ev is not None and not ev.counter and not ev.named and not is_id_like(ev, OPTS)
    ev = id_evidence("patient_id", np.arange(1001, 1051, dtype=float), rows(50))
    assert ev is not None and ev.named and not ev.counter and is_id_like(ev, OPTS)


def test_non_integers_and_repeated_values_are_not_identifiers():
    assert id_evidence("id", np.linspace(0.5, 9.5, 40), rows(40)) is None
    kids = np.tile([0, 1, 2, 3, 4, 5], 10).astype(float)  # a count: repeats, so not unique
    ev = id_evidence("subject_id", kids, rows(60))
    assert ev is not None and ev.unique_share == pytest.approx(0.1) and not is_id_like(ev, OPTS)


def test_names():
    assert all(id_evidence(n, np.arange(1, 31, dtype=float) * 7, rows(30)).named
               for n in ("id", "ID", "patient_id", "customerID", "PatientId", "rownames", "Unnamed: 0", "record no",
                         "pid", "caseid", "studyid", "schid", "uid"))
    assert not any(id_evidence(n, np.arange(1, 31, dtype=float) * 7, rows(30)).named
                   for n in ("kid", "acid", "fluid", "paid", "width", "video"))
    assert is_time_name("year") and is_time_name("day_of_year") and is_time_name("monthsSinceY2K")
    assert not is_time_name("patient_id") and not is_time_name("mayday_count")


@given(st.permutations(list(range(40))))
def test_a_shuffled_counter_is_no_longer_a_counter(perm):
    values = np.asarray(perm, dtype=float)
    ev = id_evidence("n", values, rows(40))
    assert ev is not None and ev.unique_share == 1.0
    assert ev.counter == (perm == list(range(40)))


def frame(n=200, seed=0, **extra):
    rng = np.random.default_rng(seed)
    data = {"a": rng.normal(size=n).round(3), "b": rng.normal(size=n).round(3), **extra,
            "label": rng.integers(0, 2, n)}
    return pd.DataFrame(data)


def codes(df):
    report = preflight.check(df, target="label", probe=False)
    return sorted((f.code, f.location.column) for f in report.findings)


def test_fires_on_a_row_counter_and_an_id_name_and_pf101_leaves_them_to_it():
    assert codes(frame(row=np.arange(1, 201))) == [("PF105", "row")]
    rng = np.random.default_rng(1)
    assert codes(frame(customer_id=rng.permutation(200) + 50_000)) == [("PF105", "customer_id")]


def test_stays_silent_on_counts_unique_floats_and_time():
    rng = np.random.default_rng(2)
    assert codes(frame(children=rng.integers(0, 6, 200))) == []
    assert codes(frame(mass=rng.normal(0, 1, 200).round(6))) == []  # unique floats: a measurement
    assert codes(frame(step=np.arange(200))) == [("PF101", "step")]  # a time axis: unscaled, not an identifier
