"""Fast probe tests: variants, batch plans, verdicts, evidence, cache, plot. No training here
except where marked slow (tests/test_probes_slow.py trains)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from preflight.checks.fixes import OUTPUT_KINDS, ClassWeights, DropColumns, Impute, Standardize
from preflight.errors import PreflightError
from preflight.findings import Evidence, Setup
from preflight.probes import cache, train_numpy
from preflight.probes.data import Skip, batch_plan, build, split, table_from_arrays
from preflight.probes.evidence import (
    CONFIRMED,
    NOT_REPRODUCED,
    Measurements,
    best_loss,
    build_evidence,
    gap_at,
    judge,
    wins,
)
from preflight.probes.run import fit_steps, predicted_seconds, settings_from_config
from preflight.probes.settings import CONFIRM_RATIO, ProbeSettings
from preflight.report.curves import has_curves, loss_curves_svg
from preflight.report.evidence import render_line, sparkline

ROOT = Path(__file__).resolve().parents[1]


def run_py(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)


def test_importing_probes_and_no_probe_check_do_not_import_torch(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("x,label\n" + "".join(f"{90 + i % 7},{i % 2}\n" for i in range(200)))
    out = run_py(
        "import sys, preflight.probes, preflight.report.curves\n"
        "from preflight.cli import main\n"
        f"try: main(['check', {str(csv)!r}, '--no-probe'])\n"
        "except SystemExit as e: code = e.code\n"
        "print('torch' in sys.modules, code)")
    assert out.stdout.split()[-2:] == ["False", "1"], out.stderr


# --- variants -----------------------------------------------------------------------------------

def heart(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(92, 12, n)
    return x[:, None], (x > 91).astype(float)


def test_scale_variant_standardizes_flagged_columns_with_training_statistics_only():
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(92, 12, 400), rng.normal(0, 1, 400)]
    y = (X[:, 0] > 91).astype(float)
    X[3::4, 0] += 1000  # held-out rows only (every 4th): must not move the training statistics
    d = build(Standardize(), table_from_arrays(X, y, "binary", ["hr", "z"]), ["hr"], ProbeSettings())
    assert d.columns == ("hr",)
    as_is, fixed = d.X_train
    np.testing.assert_allclose(as_is[:, 0], X[split(400)[0], 0], rtol=1e-6)  # raw
    assert abs(fixed[:, 0].mean()) < 1e-5 and abs(fixed[:, 0].std() - 1) < 1e-4
    np.testing.assert_array_equal(as_is[:, 1], fixed[:, 1])  # the unflagged column is untouched
    assert d.X_test[1][:, 0].mean() > 50  # held-out outliers standardized with training stats


def test_constant_variant_gives_nan_as_is_and_drops_the_column_when_fixed():
    X, y = heart()
    X = np.c_[X, np.full(len(y), 3.0)]
    d = build(DropColumns(), table_from_arrays(X, y, "binary", ["hr", "c"]), ["c"], ProbeSettings())
    assert np.isnan(d.X_train[0][:, 1]).all()
    assert (d.X_train[1][:, 1] == 0).all() and np.isfinite(d.X_train[1]).all()


def test_nonfinite_variant_keeps_bad_cells_as_is_and_imputes_them_fixed():
    X, y = heart()
    X[::10, 0] = np.nan
    X[5::40, 0] = np.inf
    d = build(Impute(), table_from_arrays(X, y, "binary", ["hr"]), ["hr"], ProbeSettings())
    assert (~np.isfinite(d.X_train[0])).sum() > 0
    assert np.isfinite(d.X_train[1]).all() and np.isfinite(d.X_test[1]).all()


def test_nonfinite_probe_skips_when_the_sample_holds_no_bad_cell():
    X, y = heart()
    with pytest.raises(Skip, match="no non-finite"):
        build(Impute(), table_from_arrays(X, y, "binary", ["hr"]), ["hr"], ProbeSettings())


@pytest.mark.parametrize("X, y, task, match", [
    (np.zeros((10, 1)), np.arange(10) % 2, "binary", "too few rows"),
    (np.zeros((100, 1)), np.zeros(100), "binary", "single class"),
    (np.zeros((100, 0)), np.arange(100) % 2, "binary", "no numeric feature"),
])
def test_skip_reasons(X, y, task, match):
    with pytest.raises(Skip, match=match):
        build(Standardize(), table_from_arrays(X, y, task), [], ProbeSettings())


def test_a_flagged_column_the_probe_cannot_train_on_is_named_in_the_skip_reason():
    X, y = heart()
    with pytest.raises(Skip, match=r"flagged columns \('label'\) are not among the numeric features"):
        build(Standardize(), table_from_arrays(X, y, "binary", ["hr"]), ["label"], ProbeSettings())


def test_split_is_interleaved_so_sorted_labels_reach_both_sides():
    y = np.repeat([0, 1, 2], 100)
    tr, te = split(len(y))
    assert set(y[tr]) == set(y[te]) == {0, 1, 2}
    assert not set(tr) & set(te) and len(tr) + len(te) == len(y)


@given(n=st.integers(2, 400), data=st.data())
@hsettings(max_examples=80, deadline=None)
def test_split_puts_rows_the_fix_changes_on_both_sides(n, data):
    changed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    tr, te = split(n, changed)
    assert sorted(np.concatenate([tr, te])) == list(range(n)) and np.all(np.diff(tr) > 0)
    k = int(changed.sum())
    if k >= 1:
        assert changed[tr].any()  # training always sees a changed row
    if k >= 2:
        assert changed[te].any()  # and the held-out rows hold one


def test_impute_probe_trains_on_nan_rows_even_when_interleaving_would_hold_them_all_out():
    X = np.random.default_rng(0).normal(size=(200, 2))
    X[3::4, 1] = np.nan  # every fourth row: the plain interleaved split would hold out every NaN row
    y = (X[:, 0] > 0).astype(float)
    data = build(Impute(), table_from_arrays(X, y, "binary", ["a", "b"]), ["b"], ProbeSettings())
    assert any(n.startswith("38 of 151 training rows hold a non-finite value") for n in data.notes), data.notes
    assert data.n_test >= 8


def test_class_weights_give_each_class_the_same_total_weight():
    y = np.array([0] * 90 + [1] * 10, dtype=float)
    plain, weighted = ClassWeights().sample_weights(y, 2)
    assert (plain == 1).all()
    assert weighted[y == 0].sum() == pytest.approx(weighted[y == 1].sum()) == pytest.approx(50.0)
    rare = ClassWeights().changed_rows(np.zeros((100, 1)), y, np.zeros(1, bool))
    assert rare.sum() == 10 and rare[y == 1].all()


def test_subsample_keeps_file_order_and_caps_training_rows():
    X = np.arange(20000, dtype=float)[:, None]
    t = table_from_arrays(X, (np.arange(20000) // 7) % 2, "binary", max_rows=1000)
    assert len(t.y) <= 1000 * 4 // 3 + 1 and np.all(np.diff(t.X[:, 0]) > 0)


# --- batch plans ---------------------------------------------------------------------------------

@given(n=st.integers(2, 300), batch=st.integers(1, 64), epochs=st.integers(1, 4), seeds=st.integers(1, 3))
@hsettings(max_examples=60, deadline=None)
def test_batch_plan_epochs_are_permutations_and_file_order_is_file_order(n, batch, epochs, seeds):
    plan = batch_plan(n, batch, None, epochs, list(range(seeds)), ("file", "shuffled"))
    b = min(batch, n)
    per_epoch = n // b
    assert plan.shape == (epochs * per_epoch, 2 * seeds, b)
    for m in range(2 * seeds):
        rows = plan[:, m].reshape(epochs, per_epoch * b)
        for e in range(epochs):
            assert len(set(rows[e])) == per_epoch * b  # no row twice in an epoch
        if m < seeds:  # as-is: file order, every epoch
            assert (rows == np.arange(per_epoch * b)).all()


def test_both_variants_see_the_same_batches_when_both_shuffle():
    plan = batch_plan(100, 10, 25, None, [0, 1], ("shuffled", "shuffled"))
    np.testing.assert_array_equal(plan[:, 0], plan[:, 2])
    np.testing.assert_array_equal(plan[:, 1], plan[:, 3])
    assert not np.array_equal(plan[:, 0], plan[:, 1])  # seeds differ


# --- verdicts and evidence -----------------------------------------------------------------------

def test_wins_needs_the_margin_and_the_floor_in_every_seed():
    assert wins(np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.8, 0.1]))
    assert not wins(np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.81, 0.1]))
    assert wins(np.array([np.nan] * 3), np.array([0.5] * 3))
    assert not wins(np.array([np.nan] * 3), np.array([0.5, np.nan, 0.5]))
    assert not wins(np.array([1.0, 1.0]), np.array([1.2, 1.1]))
    # a ratio far below the margin between two near-perfect models is not a gap
    assert not wins(np.array([0.008, 0.009]), np.array([0.004, 0.004]))


def test_gap_at_judges_the_best_checkpoint_and_the_last_step_apart():
    one = np.array([1.0, 1.0])
    assert gap_at(one, one * 0.5, one, one * 0.5) == ("best", "last")
    assert gap_at(one, one * 0.9, one, one * 0.5) == ("last",)  # as-is overfits less, or trains slower
    assert gap_at(one, one * 0.5, one, one) == ("best",)
    assert gap_at(one, one * 0.9, one, one * 0.9) == ()


def test_the_early_checkpoint_is_after_a_few_epochs_of_a_longer_run():
    from preflight.probes.evidence import early_index
    from preflight.probes.settings import EARLY_EPOCHS

    steps = np.arange(0, 601, 15)
    # 160 training rows at batch 64: 2 steps an epoch, so EARLY_EPOCHS epochs end at step 2 x EARLY_EPOCHS
    k = early_index(steps, 160, 64)
    assert steps[k] >= 2 * EARLY_EPOCHS and steps[k - 1] < 2 * EARLY_EPOCHS
    assert early_index(steps, 4000, 64) is None  # 62 steps an epoch: the run ends before that many epochs
    one = np.array([1.0, 1.0])
    assert gap_at(one, one, one, one, (one, one * 0.5)) == ("early",)


def test_judge_confirms_when_one_setup_shows_the_gap_and_demotes_only_when_none_does():
    a = Setup("adam-default", gap_at=("last",))
    b = Setup("sgd-momentum")
    c = Setup("forgiving")
    verdict, reason = judge([a, b, c], [False] * 3, 3)
    assert verdict == CONFIRMED and "adam-default (last step)" in reason
    assert "not with sgd-momentum, forgiving" in reason
    assert str(CONFIRM_RATIO) in reason
    verdict, reason = judge([replace(a, gap_at=()), b, c], [False] * 3, 3)
    assert verdict == NOT_REPRODUCED and "none of the setups (adam-default, sgd-momentum, forgiving) was" in reason
    assert "failed too" in judge([b, c], [True, True], 3)[1]
    assert "failed too" not in judge([b, c], [True, False], 3)[1]


def test_best_loss_is_the_early_stopping_checkpoint_and_a_diverged_run_failed():
    curves = np.array([[9.0, 0.5, 0.3, 0.4], [9.0, 0.5, np.nan, np.nan], [1.0, 0.2, 0.2, 0.2]])
    best = best_loss(curves, np.array([-1, 7, -1]))
    assert best[0] == 0.3 and np.isnan(best[1]) and best[2] == 0.2


ONE_SETUP = [("forgiving", "adam", 0.01)]
TWO_SETUPS = [("adam-default", "adam", 0.001), ("sgd-momentum", "sgd", 0.01)]


def fake_evidence(as_is_curves, fixed_curves, task="binary", setups=ONE_SETUP, n_seeds=None):
    """Evidence of made-up curves: as-is rows then fixed rows, each setup's seeds in a row."""
    c = np.array(as_is_curves + fixed_curves, dtype=float)
    s = n_seeds or len(as_is_curves) // len(setups)
    first = np.array([1 if not np.isfinite(r).all() else -1 for r in c])
    return build_evidence(code="PF101", family="scale", task=task, eval_loss="bce_logits", columns=["x"],
                          eval_steps=np.arange(c.shape[1]) * 10, curves=c,
                          score_curves=np.full(c.shape, 0.75), first_nonfinite=first, n_seeds=s, steps=30,
                          batch=64, epochs=None, hidden=32, setups=setups, d=1, n_out=1,
                          rows={"train": 300, "heldout": 100}, seconds=0.1, as_is="raw", fixed="std", notes=[])


def test_evidence_with_failed_as_is_run_is_valid_json_with_nulls_and_a_reason():
    ev = fake_evidence([[0.7, np.nan, np.nan, np.nan]] * 2, [[0.7, 0.4, 0.2, 0.1]] * 2)
    text = json.dumps(ev.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["verdict"] == CONFIRMED
    assert back["as_is"]["best"] is None and back["as_is"]["failed"] is True and "NaN" in back["as_is"]["failure"]
    assert back["fixed"]["best"] == 0.1 and back["gap"]["ratio"] is None
    line = render_line(Evidence.from_dict(back))
    assert Evidence.from_dict(back) == ev
    assert "as-is failed" in line and "NaN -> 0.1" in line


def test_evidence_gap_and_reach_step():
    ev = fake_evidence([[1.0, 0.8, 0.6, 0.5]], [[1.0, 0.4, 0.3, 0.25]])
    assert ev.verdict == CONFIRMED and ev.gap.ratio == 0.5
    assert ev.gap.as_is_reaches_fixed_at is None
    ev = fake_evidence([[1.0, 0.8, 0.2, 0.2]], [[1.0, 0.4, 0.3, 0.25]])
    assert ev.verdict == NOT_REPRODUCED and ev.gap.as_is_reaches_fixed_at == 20
    assert "reaches it at step 20" in render_line(ev)


def test_never_reaches_is_said_only_when_no_as_is_seed_ever_got_there():
    ev = fake_evidence([[1.0, 0.8, 0.6, 0.5]] * 2, [[1.0, 0.4, 0.3, 0.25]] * 2)
    assert ev.gap.never_reached and "as-is never reaches it" in render_line(ev)
    # one seed gets there, the mean curve does not: no step to name, and no "never" either
    ev = fake_evidence([[1.0, 0.8, 0.6, 0.5], [1.0, 0.25, 0.9, 0.9]], [[1.0, 0.4, 0.3, 0.25]] * 2)
    assert ev.gap.as_is_reaches_fixed_at is None and not ev.gap.never_reached
    assert "never" not in render_line(ev)
    # the fixed run failed: nothing to reach, so nothing is said about reaching it
    ev = fake_evidence([[1.0, 0.8, 0.6, 0.5]], [[1.0, 0.4, np.nan, np.nan]])
    assert ev.verdict == NOT_REPRODUCED and "never" not in render_line(ev)


def test_the_panel_confirms_on_the_setup_that_shows_the_gap_and_says_which():
    # adam-default: no gap (as-is as good); sgd-momentum: the gap after the last step only
    as_is = [[1.0, 0.5, 0.5, 0.5]] * 2 + [[1.0, 0.4, 0.6, 0.9]] * 2
    fixed = [[1.0, 0.5, 0.5, 0.5]] * 2 + [[1.0, 0.38, 0.4, 0.41]] * 2
    ev = fake_evidence(as_is, fixed, setups=TWO_SETUPS)
    assert ev.verdict == CONFIRMED and ev.shown_by == ("sgd-momentum",)
    assert [p.gap_at for p in ev.panel] == [(), ("last",)]
    assert ev.panel[1].as_is_last == 0.9 and ev.panel[1].fixed_last == 0.41
    assert "SGD lr 0.01 momentum 0.9" in ev.model  # the headline is the setup that showed it
    assert "(gap in 1 of 2 setups: sgd-momentum (last only))" in render_line(ev)
    back = Evidence.from_dict(json.loads(json.dumps(ev.to_dict(), allow_nan=False)))
    assert back == ev
    # no gap anywhere: not reproduced, and the headline is the panel's first setup
    ev = fake_evidence(as_is[:2] * 2, fixed[:2] * 2, setups=TWO_SETUPS)
    assert ev.verdict == NOT_REPRODUCED and ev.shown_by == () and "Adam lr 0.001" in ev.model
    assert "no gap in any of 2 setups" in render_line(ev)


def test_a_metric_judged_fix_compares_one_minus_the_metric():
    c = np.full((2, 3), 0.5)
    scores = np.array([[0.5, 0.5, 0.5], [0.5, 0.8, 0.85]])  # balanced accuracy as-is, fixed
    ev = build_evidence(code="PF111", family="imbalance", task="binary", eval_loss="bce_logits", columns=["y"],
                        eval_steps=np.array([0, 10, 20]), curves=c, score_curves=scores,
                        first_nonfinite=np.array([-1, -1]), n_seeds=1, steps=20, batch=64, epochs=None, hidden=32,
                        setups=ONE_SETUP, d=1, n_out=1, rows={"train": 300, "heldout": 100}, seconds=0.1,
                        as_is="plain", fixed="weighted", notes=[], metric="balanced_accuracy", judged_on="metric")
    assert ev.verdict == CONFIRMED and ev.judged_on == "metric" and ev.metric == "balanced_accuracy"
    assert ev.as_is.best == 0.5 and ev.fixed.best == 0.15 and ev.fixed.score == 0.85
    assert "balanced error" in ev.loss


@given(st.lists(st.floats(0.001, 1000), min_size=1, max_size=80))
def test_sparkline_length_and_extremes(values):
    s = sparkline(values, width=16)
    assert len(s) == min(len(values), 16)
    if max(values) > min(values) and len(values) <= 16:
        assert s[values.index(max(values))] == "█" and s[values.index(min(values))] == "▁"


def test_sparkline_of_decreasing_values_never_rises():
    s = sparkline([10, 8, 6, 5, 4, 3, 2.5, 2, 1.5, 1])
    assert list(s) == sorted(s, key="▁▂▃▄▅▆▇█".index, reverse=True)
    assert sparkline([1.0, float("nan"), None]) == "▁××"


# --- budget ----------------------------------------------------------------------------------------

def test_budget_cuts_steps_deterministically_and_skips_when_too_small():
    X, y = heart(4000)
    d = build(Standardize(), table_from_arrays(X, y, "binary", ["hr"]), ["hr"], ProbeSettings())
    full, _, note = fit_steps(d, ProbeSettings())
    assert full == 600 and note == ""
    cut, _, note = fit_steps(d, ProbeSettings(budget=0.3))
    assert 50 <= cut < 600 and "budget" in note
    assert predicted_seconds(cut, 6, 64, 1, 32, 1, d.n_test) <= 0.3
    assert fit_steps(d, ProbeSettings(budget=0.3)) == (cut, None, note)
    with pytest.raises(Skip, match="budget"):
        fit_steps(d, ProbeSettings(budget=0.01))


def test_config_settings_are_validated():
    s = settings_from_config({"seeds": 5, "budget": 3}, "pyproject.toml", {"budget": None, "cache": False})
    assert (s.seeds, s.budget, s.cache) == (5, 3.0, False)
    with pytest.raises(PreflightError, match="no key 'sedes'"):
        settings_from_config({"sedes": 5})
    with pytest.raises(PreflightError, match="must be a whole number"):
        settings_from_config({"seeds": "3"})


# --- cache -------------------------------------------------------------------------------------------

def test_cache_roundtrip_corrupt_and_foreign_entries_are_misses(tmp_path):
    key = "ab" + "0" * 62
    assert cache.get(key, str(tmp_path)) is None
    assert cache.put(key, {"verdict": "confirmed", "x": [1, None]}, str(tmp_path))
    assert cache.get(key, str(tmp_path)) == {"verdict": "confirmed", "x": [1, None]}
    path = tmp_path / cache.SUBDIR / "ab" / f"{key}.json"
    path.write_text(path.read_text()[:20])  # truncated by a crash
    assert cache.get(key, str(tmp_path)) is None
    path.write_text(json.dumps({"key": "other", "evidence": {}}))
    assert cache.get(key, str(tmp_path)) is None
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFLIGHT_CACHE_DIR", str(tmp_path / "a"))
    assert cache.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("PREFLIGHT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x" / "preflight"


def test_unwritable_cache_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cache.put("cd" + "0" * 62, {"a": 1}, str(blocker)) is False


# --- what the cache holds, and trainings shared between rules -----------------------------------------
# A stand-in trainer (no torch) counts the trainings; the fixed variant's held-out loss is half the as-is one's.

@pytest.fixture
def fake_fit(monkeypatch):
    calls = []

    def fit(X_train, y_train, X_test, y_test, plan, variant, seeds, losses, eval_loss, task, n_out, hidden, lr,
            device="cpu", eval_at=None, **panel):
        calls.append(X_train.copy())
        steps, models, _ = plan.shape
        fixed = np.asarray(variant, dtype=float)[:, None]
        curves = np.array([[0.7, 0.6, 0.4]] * models) * (1 - 0.5 * fixed)
        return types.SimpleNamespace(eval_steps=np.array([0, steps // 2, steps]), curves=curves,
                                     score_curves=np.full(curves.shape, 0.75),
                                     first_nonfinite=np.full(models, -1), steps=steps)

    module = types.ModuleType("preflight.probes.train")
    module.fit = fit
    monkeypatch.setitem(sys.modules, "preflight.probes.train", module)  # the torch trainer
    monkeypatch.setattr(train_numpy, "fit", fit)  # and the NumPy one, the default on the CPU
    return calls


FAST = ProbeSettings(steps=60, budget=0.0)


def without_timing(ev):
    return replace(ev, seconds=None, cached=None)


def test_the_cache_holds_measurements_and_a_changed_threshold_applies_to_a_hit(fake_fit, tmp_path, monkeypatch):
    from preflight.probes import evidence
    from preflight.probes.run import probe_arrays

    X, y = heart()
    s = FAST.but(cache_dir=str(tmp_path))
    first = probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
    assert first.verdict == CONFIRMED and first.cached is False and len(fake_fit) == 1
    monkeypatch.setattr(evidence, "CONFIRM_RATIO", 0.001)  # a stricter judge
    hit = probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
    assert hit.cached is True and len(fake_fit) == 1
    fresh = probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s.but(cache=False))
    assert hit.verdict == fresh.verdict == NOT_REPRODUCED
    assert without_timing(hit) == without_timing(fresh) and hit.gap.margin == 0.001
    [entry] = (tmp_path / cache.SUBDIR).rglob("*.json")
    stored = json.loads(entry.read_text())["measurements"]
    assert "verdict" not in stored and "reason" not in stored and "gap" not in stored


@pytest.mark.parametrize("trainer, library, counted", [("torch", "torch", True), ("torch", "numpy", True),
                                                       ("numpy", "numpy", True), ("numpy", "torch", False)])
def test_the_cache_key_covers_the_versions_of_the_libraries_that_train(fake_fit, tmp_path, monkeypatch,
                                                                        trainer, library, counted):
    """A NumPy training is keyed by NumPy's version, not torch's (an upgraded torch keeps its cache
    hits); a torch training by both."""
    from preflight.probes import run

    X, y = heart()
    s = FAST.but(cache_dir=str(tmp_path), trainer=trainer)
    run.probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
    assert run.probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s).cached is True
    real = run.library_versions
    monkeypatch.setattr(run, "library_versions", lambda with_torch=True: {
        k: v + ".other" if k == library else v for k, v in real(with_torch).items()})
    again = run.probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
    assert again.cached is (not counted) and len(fake_fit) == (2 if counted else 1)


def test_a_damaged_cache_entry_is_a_miss_and_is_rewritten(fake_fit, tmp_path):
    from preflight.probes.run import probe_arrays

    X, y = heart()
    s = FAST.but(cache_dir=str(tmp_path))
    probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
    [entry] = (tmp_path / cache.SUBDIR).rglob("*.json")
    whole = json.loads(entry.read_text())
    for damage in ({"curves": [[0.5]]}, {"first_nonfinite": [0.5]}, {"steps": "60"}, {"curves": "nan"},
                   {"score_curves": [["x"] * 3] * 6}):
        entry.write_text(json.dumps(dict(whole, measurements=dict(whole["measurements"], **damage))))
        ev = probe_arrays(X, y, "binary", "PF101", Standardize(), ["hr"], ["hr"], s)
        assert ev.cached is False and ev.verdict == CONFIRMED
        rewritten = json.loads(entry.read_text())["measurements"]  # the retrained measurements replaced it
        assert dict(rewritten, seconds=0) == dict(whole["measurements"], seconds=0)
    assert len(fake_fit) == 6


def test_measurements_round_trip_strict_json_with_non_finite_values():
    curves = np.array([[0.7, np.nan, np.inf], [0.7, 0.123456789012345, -np.inf]])
    m = Measurements(np.array([0, 5, 10]), curves, np.full(curves.shape, 0.5), np.array([2, -1]), 10, 32, None, 0.25)
    back = Measurements.from_json(json.loads(json.dumps(m.to_json(), allow_nan=False)), 2)
    np.testing.assert_array_equal(back.curves, curves)
    assert (back.steps, back.batch, back.epochs, back.seconds) == (10, 32, None, 0.25)
    assert Measurements.from_json(m.to_json(), 4) is None  # another number of models
    assert Measurements.from_json({"curves": []}, 2) is None and Measurements.from_json([], 2) is None


def scale_csv(path, columns):
    rng = np.random.default_rng(0)
    n = 400
    label = rng.integers(0, 2, n)
    cols = {name: rng.normal(mean, std, n) + label * std for name, (mean, std) in columns.items()}
    lines = [",".join([*cols, "label"])]
    lines += [",".join([*(f"{cols[c][i]:.6g}" for c in cols), str(label[i])]) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def probe_findings(path, probe=None, on_probe=None):
    from preflight.config import Config
    from preflight.engine import RunOptions, check_paths
    from preflight.probes import make_hook

    config = Config(probe=dict(steps=60, budget=0.0, **(probe or {})))
    return check_paths([str(path)], config, RunOptions(probe_hook=make_hook(), on_probe=on_probe))


def test_pf101_and_pf102_share_one_training_when_their_fixes_standardize_the_same_columns(fake_fit, tmp_path):
    # PF101 flags both features (mean 300; mean 20 with std 0.005), PF102 their 8,000x scale ratio: both fixes
    # standardize 'a' and 'b', so one training serves both rules, with and without the cache
    path = scale_csv(tmp_path / "both.csv", {"a": (300, 40), "b": (20, 0.005)})
    for probe in ({"cache": False}, {"cache-dir": str(tmp_path / "cache")}):
        fake_fit.clear()
        report = probe_findings(path, probe)
        assert sorted((f.code, f.location.column) for f in report.findings) == [
            ("PF101", "a"), ("PF101", "b"), ("PF102", "a")]
        assert len(fake_fit) == 1
        for f in report.findings:
            assert f.probe.rule == f.code and f.probe.columns == ("a", "b")
            assert f.probe.verdict == CONFIRMED and f.probe.data == "user"
        pf102 = next(f.probe for f in report.findings if f.code == "PF102")
        assert any("same training as PF101" in n for n in pf102.notes)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1


def test_pf102_standardizes_every_numeric_feature_not_only_the_column_it_names(fake_fit, tmp_path):
    # PF101 flags 'a' only; PF102 names 'a' (the widest) but its fix standardizes 'a' and 'c': two trainings
    path = scale_csv(tmp_path / "mixed.csv", {"a": (300, 40), "c": (0, 0.01)})
    report = probe_findings(path, {"cache": False})
    got = {f.code: list(f.probe.columns) for f in report.findings}
    assert got == {"PF101": ["a"], "PF102": ["a", "c"]}
    assert len(fake_fit) == 2
    fixed_102 = fake_fit[1][1]  # the fixed variant of PF102's training: both columns standardized
    assert np.allclose(fixed_102.mean(axis=0), 0, atol=1e-4) and np.allclose(fixed_102.std(axis=0), 1, atol=1e-3)


def test_the_engine_announces_a_probe_only_where_it_trains(fake_fit, tmp_path):
    calls = []
    py = ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py"
    report = probe_findings(py, on_probe=lambda d, n: calls.append((d, n)))
    assert [f.code for f in report.findings] == ["PF301"] and report.findings[0].probe.data == "reference"
    assert calls == [] and fake_fit == []  # code: recorded evidence, no training, no "training probe" line
    csv = scale_csv(tmp_path / "hr.csv", {"hr": (92, 12)})
    probe_findings(csv, {"enabled": False}, on_probe=lambda d, n: calls.append((d, n)))
    assert calls == []  # probing switched off in the config
    probe_findings(csv, {"cache": False}, on_probe=lambda d, n: calls.append((d, n)))
    assert calls == [(str(csv), 1)] and len(fake_fit) == 1


def test_the_engine_without_the_probe_package_announces_only_subjects_with_rows(tmp_path):
    from preflight.config import Config
    from preflight.engine import RunOptions, check_paths

    calls = []
    options = RunOptions(probe_hook=lambda fs, s, c: fs, on_probe=lambda d, n: calls.append(n))
    check_paths([str(ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py")], Config(), options)
    assert calls == []
    check_paths([str(scale_csv(tmp_path / "hr.csv", {"hr": (92, 12)}))], Config(), options)
    assert calls == [1]


# --- output kinds -------------------------------------------------------------------------------------

def test_every_output_kind_is_named_by_a_rule_and_every_packaged_evidence_file_is_used():
    from preflight.checks import ALL_RULES
    from preflight.checks.fixes import StableLoss
    from preflight.checks.loop_fixes import LOOP_KINDS, LoopFix
    from preflight.probes.reference import file_name
    from preflight.probes.reference.__main__ import packaged_fixes

    kinds = {r.fix_object.kind for r in ALL_RULES if isinstance(r.fix_object, StableLoss)}
    assert set(OUTPUT_KINDS) == kinds
    # one file per fix a rule on code names (PF203/PF204's ShuffleRows, PF301-PF303's StableLoss, PF501-PF506's
    # LoopFix); data rules are probed on the user's rows
    loops = {r.fix_object.kind for r in ALL_RULES if isinstance(r.fix_object, LoopFix)}
    assert loops == set(LOOP_KINDS)
    expected = {f"output-{k}.json" for k in kinds} | {"order.json"} | {f"loop-{k}.json" for k in loops}
    assert {file_name(fix) for fix in packaged_fixes()} == expected
    packaged = {p.name for p in resources.files("preflight.probes.reference").iterdir() if p.name.endswith(".json")}
    assert packaged == expected


def test_packaged_evidence_of_a_data_rule_fix_is_the_catalog_evidence_of_its_stand_in():
    """One run writes both (``python -m preflight.probes.reference``): they cannot drift apart."""
    from preflight.probes.reference import file_name
    from preflight.probes.reference.__main__ import catalog_folders, packaged_fixes

    stand_ins = {fix: code for fix, code in packaged_fixes().items() if code is not None}
    assert {file_name(f): c for f, c in stand_ins.items()} == {"order.json": "PF201"}
    for fix, code in stand_ins.items():
        packaged = json.loads(resources.files("preflight.probes.reference").joinpath(file_name(fix)).read_text())
        catalog = json.loads((catalog_folders()[code] / "evidence.json").read_text())
        assert packaged["data"] == "reference" and dict(packaged, data="user") == catalog


def test_every_rule_with_a_probe_names_a_fix_object_and_the_cli_probe_needs_columns_only_for_column_fixes():
    from preflight.checks import RULES_BY_CODE
    from preflight.checks.fixes import Fix

    probed = {c: r.fix_object for c, r in RULES_BY_CODE.items() if r.fix_object is not None}
    assert all(isinstance(f, Fix) for f in probed.values())
    assert {"PF101", "PF104", "PF201", "PF301"} <= set(probed) and "PF305" not in probed
    assert probed["PF104"].transforms_columns and not probed["PF201"].transforms_columns
    # PF101 and PF102 transform alike (the columns differ, not the transform): one cache key
    assert probed["PF101"].key() == probed["PF102"].key() != probed["PF103"].key()
    assert probed["PF201"].whole_epochs and not probed["PF101"].whole_epochs


# --- plot ------------------------------------------------------------------------------------------
# `preflight probe --plot` writes preflight.report.curves' SVG as a file, with a title; tests/test_html.py
# checks the same SVG's geometry inlined in the HTML report and paints it in a browser.

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))


def test_svg_is_well_formed_escaped_and_shows_both_variants_and_the_gap():
    ev = fake_evidence([[1.0, 0.8, 0.6, 0.5]] * 3, [[1.0, 0.4, 0.3, 0.25]] * 3)
    title = 'PF101 on <a&b> "x"'
    svg = loss_curves_svg(ev, title=title)
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert root.find(SVG + "title").text == title  # the accessible name
    assert root.find(SVG + "text[@class='title']").text == title  # and the visible heading
    assert "<a&b>" not in svg and "&lt;a&amp;b&gt;" in svg
    # one line per seed and variant, and each variant's mean over its seeds
    lines = root.findall(SVG + "path")
    classes = [line.get("class") for line in lines]
    assert len(lines) == 8
    assert sorted(classes) == sorted([f"curve {v} seed seed-{i}" for v in ("as_is", "fixed") for i in range(3)]
                                     + ["curve as_is mean", "curve fixed mean"])
    assert {line.get("stroke") for line in lines} == {"#d62728", "#1f77b4"}
    texts = svg_texts(root)
    assert "Probe confirmed: best held-out BCE 0.5 as-is, 0.25 fixed (fixed/as-is = 0.50, gap 0.25)" in texts
    assert "3 seeds x 30 steps on 300 training rows" in texts
    assert "training step" in texts and "held-out BCE" in texts and "thick lines: mean of 3 seeds" in texts
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    # without a title (the HTML report's use) there is no heading: the document is the plot and its legend
    plain = ET.fromstring(loss_curves_svg(ev))
    assert plain.find(SVG + "text[@class='title']") is None and 320 < int(plain.get("height")) < 380
    assert int(root.get("height")) > int(plain.get("height")) + 40


def test_svg_of_failed_and_skipped_runs():
    ev = fake_evidence([[0.7, np.nan, np.nan, np.nan]], [[0.7, 0.4, 0.2, 0.1]])
    root = ET.fromstring(loss_curves_svg(ev, title="PF104 on a.csv"))
    texts = svg_texts(root)
    assert root.find(SVG + "text[@class='failure as_is']") is not None  # a cross where the loss became NaN
    assert "training failed (NaN/inf)" in texts  # the legend says what the cross means
    assert "NaN (training failed) as-is, 0.1 fixed" in texts
    # the as-is run's one finite point is drawn as a dot (a line needs two)
    assert [c.get("class") for c in root.findall(SVG + "circle") if c.get("class", "").startswith("curve")] == [
        "curve as_is seed seed-0", "curve as_is mean"]
    assert has_curves(ev)

    skipped = Evidence.from_dict({"verdict": "skipped", "reason": "no <target>"})
    assert not has_curves(skipped)
    root = ET.fromstring(loss_curves_svg(skipped, title="PF101 on a.csv"))
    assert root.find(SVG + "title").text == "PF101 on a.csv"
    assert "Probe skipped: no <target>" in svg_texts(root) and root.find(SVG + "path") is None
    root = ET.fromstring(loss_curves_svg(skipped))
    assert root.find(SVG + "title").text == "Probe skipped: no <target>"
