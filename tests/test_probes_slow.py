"""Probe tests that train (a second or two each). Marked slow; still run in CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from preflight.checks.fixes import OUTPUT_KINDS, ClassWeights, ShuffleRows, StableLoss, Standardize
from preflight.findings import Evidence
from preflight.probes import ProbeSettings, probe_arrays, probe_output
from preflight.probes.data import batch_plan
from preflight.probes.reference import reference_evidence
from preflight.probes.settings import CONFIRM_RATIO

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NOCACHE = ProbeSettings(cache=False, budget=0.0)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFLIGHT_CACHE_DIR", str(tmp_path / "cache"))


def heart_rate_csv():
    return ROOT / "examples" / "heart_rate.csv"


def read_csv(path):
    data = np.genfromtxt(path, delimiter=",", names=True)
    names = data.dtype.names
    X = np.c_[tuple(data[n] for n in names[:-1])]
    return X, data[names[-1]], list(names[:-1])


def test_heart_rate_pf101_confirmed_with_a_3x_gap():
    X, y, names = read_csv(heart_rate_csv())
    ev = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, NOCACHE)
    assert ev.verdict == "confirmed", ev.reason
    assert ev.gap.ratio <= 1 / 3
    assert all(f <= a / 3 for a, f in zip(ev.as_is.per_seed["best"], ev.fixed.per_seed["best"]))
    assert ev.fixed.score > ev.as_is.score
    # every setup of the panel shows it, and the headline is the panel's first: Adam at its default lr
    assert [p.name for p in ev.panel] == ["adam-default", "sgd-momentum", "forgiving"]
    assert ev.shown_by[0] == "adam-default" and "Adam lr 0.001" in ev.model
    for p in ev.panel:
        assert p.fixed_best <= 0.8 * p.as_is_best and p.fixed_last <= 0.8 * p.as_is_last, p


def test_imbalanced_target_pf111_confirmed_on_balanced_accuracy_and_a_balanced_one_not():
    X, y, _ = read_csv(ROOT / "rules" / "PF111-imbalanced-classes" / "bad.csv")
    ev = probe_arrays(X, y, "binary", "PF111", ClassWeights(), settings=NOCACHE)
    assert ev.verdict == "confirmed", ev.reason
    assert ev.metric == "balanced_accuracy" and ev.judged_on == "metric"
    assert ev.as_is.score < 0.7 < 0.85 < ev.fixed.score  # the plain loss misses most of the 3.3% class
    X, y, _ = read_csv(ROOT / "rules" / "PF111-imbalanced-classes" / "good.csv")  # three equal classes
    ev = probe_arrays(X, y, "multiclass", "PF111", ClassWeights(), settings=NOCACHE)
    assert ev.verdict == "not_reproduced", ev.reason
    assert abs(ev.fixed.score - ev.as_is.score) < 0.03

def test_label_sorted_make_classification_pf201_confirmed_and_shuffled_not():
    from sklearn.datasets import make_classification

    X, y = make_classification(5000, random_state=0)
    order = np.argsort(y, kind="stable")
    ev = probe_arrays(X[order], y[order], "binary", "PF201", ShuffleRows(), settings=NOCACHE)
    assert ev.verdict == "confirmed", ev.reason
    assert ev.gap.ratio <= CONFIRM_RATIO
    same = probe_arrays(X, y, "binary", "PF201", ShuffleRows(), settings=NOCACHE)
    assert same.verdict == "not_reproduced"
    assert 0.85 <= same.gap.ratio <= 1.15  # file order is already random: no gap either way


def test_shuffled_rows_raise_no_pf201_finding_and_sorted_rows_do(tmp_path):
    from sklearn.datasets import make_classification

    from preflight.api import check

    X, y = make_classification(5000, random_state=0)
    for name, order in (("shuffled", np.arange(len(y))), ("sorted", np.argsort(y, kind="stable"))):
        path = tmp_path / f"{name}.csv"
        header = ",".join(f"f{i}" for i in range(X.shape[1])) + ",label"
        np.savetxt(path, np.c_[X[order], y[order]], delimiter=",", header=header, comments="", fmt="%.5g")
        report = check(str(path), select=["PF2"], probe=(name == "sorted"))
        codes = [f.code for f in report.findings]
        if name == "shuffled":
            assert codes == []
        else:
            assert codes == ["PF201"]
            assert report.findings[0].probe.verdict == "confirmed"


def test_large_but_uninformative_scale_is_not_reproduced():
    """A centred feature with std 50 (PF101 fires on std > 10) whose label is its sign plus noise:
    the threshold sits at 0 at any scale, so standardizing changes nothing. The probe must say so."""
    rng = np.random.default_rng(11)
    x = rng.normal(0, 50, 3000)
    y = (x + rng.normal(0, 25, 3000) > 0).astype(float)
    ev = probe_arrays(x[:, None], y, "binary", "PF101", Standardize(), ["x"], ["x"], NOCACHE)
    assert ev.verdict == "not_reproduced", ev.reason
    assert 0.8 < ev.gap.ratio < 1.25


def test_engine_drops_unreproduced_findings_to_info(tmp_path):
    from preflight.api import check

    rng = np.random.default_rng(11)
    x = rng.normal(0, 50, 3000)
    y = (x + rng.normal(0, 25, 3000) > 0).astype(int)
    path = tmp_path / "wide.csv"
    np.savetxt(path, np.c_[x, y], delimiter=",", header="x,label", comments="", fmt="%.6g")
    report = check(str(path), select=["PF101"])
    [f] = report.findings
    assert f.probe.verdict == "not_reproduced" and str(f.severity) == "info"
    json.loads(report.to_json())


@pytest.mark.parametrize("code", ["PF103", "PF104"])
def test_nan_producing_as_is_runs_fail_honestly(code):
    from preflight.probes.reference.data import case

    c = case(code)
    ev = probe_arrays(c["X"], c["y"], c["task"], code, c["fix"], c["columns"], c["features"], NOCACHE)
    assert ev.verdict == "confirmed"
    assert ev.as_is.failed and ev.as_is.best is None and "NaN" in ev.as_is.failure
    assert not ev.fixed.failed and ev.fixed.score > 0.85  # the headline: Adam at lr 1e-3, 600 steps
    assert all(p.as_is_best is None and p.fixed_best is not None for p in ev.panel)  # failed in every setup
    json.dumps(ev.to_dict(), allow_nan=False)  # a failed run is null in JSON, never NaN


def test_output_probe_on_well_scaled_data_finds_no_gap_for_sigmoid_bce():
    from preflight.probes.reference.data import moons

    X, y = moons(2000)
    ev = probe_output(X, y, "sigmoid_bce", settings=NOCACHE)
    assert ev.verdict == "not_reproduced"
    assert abs(ev.gap.ratio - 1) < 0.05


def test_same_input_same_numbers():
    X, y, names = read_csv(heart_rate_csv())
    a = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, NOCACHE)
    b = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, NOCACHE)
    assert replace(a, seconds=None, cached=None) == replace(b, seconds=None, cached=None)


def test_batched_training_equals_model_by_model():
    from preflight.probes.train import fit

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (500, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32)
    Xtr, Xte = np.stack([X[:400] * 10 + 50, X[:400]]), np.stack([X[400:] * 10 + 50, X[400:]])
    plan = batch_plan(400, 32, 60, None, [0, 1], ("shuffled", "shuffled"))
    variant, seeds = [0, 0, 1, 1], [0, 1, 0, 1]
    args = (("bce_logits",) * 2, "bce_logits", "binary", 1, 16, 1e-2)
    together = fit(Xtr, y[:400], Xte, y[400:], plan, variant, seeds, *args)
    for m in range(4):
        one = fit(Xtr, y[:400], Xte, y[400:], plan[:, [m]], [variant[m]], [seeds[m]], *args)
        np.testing.assert_allclose(one.curves[0], together.curves[m], rtol=1e-4, atol=1e-6)
    # the two variants of a seed start from the same weights and see the same batches: with the
    # same inputs they train identically; different seeds do not
    same = fit(np.stack([X[:400]] * 2), y[:400], np.stack([X[400:]] * 2), y[400:], plan, variant, seeds, *args)
    np.testing.assert_array_equal(same.curves[0], same.curves[2])
    assert not np.array_equal(same.curves[0], same.curves[1])
    # a panel: each model its own optimizer and rate, batched, equals each trained alone
    opts, lrs = ["adam", "sgd", "sgd", "adam"], [1e-3, 1e-2, 1e-2, 1e-2]
    panel = fit(Xtr, y[:400], Xte, y[400:], plan, variant, seeds, *args, lrs=lrs, optimizers=opts)
    for m in range(4):
        one = fit(Xtr, y[:400], Xte, y[400:], plan[:, [m]], [variant[m]], [seeds[m]], *args, lrs=[lrs[m]],
                  optimizers=[opts[m]])
        np.testing.assert_allclose(one.curves[0], panel.curves[m], rtol=1e-4, atol=1e-6)
    assert not np.allclose(panel.curves[0], together.curves[0])  # lr 1e-3 is not lr 1e-2


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_written_out_optimizers_match_torch_optim(optimizer):
    """The trainer's Adam and SGD-with-momentum updates are torch.optim's, step for step."""
    import torch

    from preflight.probes.train import fit, init_weights

    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (256, 3)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(np.float32)
    plan = batch_plan(192, 32, 40, None, [0], ("shuffled", "shuffled"))[:, :1]
    lr = 1e-3 if optimizer == "adam" else 1e-2
    ours = fit(X[None, :192], y[:192], X[None, 192:], y[192:], plan, [0], [0], ("bce_logits",), "bce_logits",
               "binary", 1, 8, lr, eval_at=list(range(1, 41)), lrs=[lr], optimizers=[optimizer])
    w1, b1, w2, b2 = (t.clone().requires_grad_() for t in init_weights(0, 3, 8, 1))
    opt = (torch.optim.Adam([w1, b1, w2, b2], lr=lr) if optimizer == "adam"
           else torch.optim.SGD([w1, b1, w2, b2], lr=lr, momentum=0.9))
    xt, yt = torch.tensor(X), torch.tensor(y)
    theirs = []
    for step in range(40):
        idx = torch.as_tensor(plan[step, 0])
        z = (torch.relu(xt[idx] @ w1 + b1) @ w2 + b2)[:, 0]
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(z, yt[idx]).backward()
        opt.step()
        with torch.no_grad():
            ze = (torch.relu(xt[192:] @ w1 + b1) @ w2 + b2)[:, 0]
            theirs.append(float(torch.nn.functional.binary_cross_entropy_with_logits(ze, yt[192:])))
    np.testing.assert_allclose(ours.curves[0, 1:], theirs, rtol=1e-4, atol=1e-6)


def test_balanced_accuracy_and_weighted_loss_in_the_trainer():
    from preflight.probes.train import fit

    rng = np.random.default_rng(2)
    X = rng.normal(0, 1, (400, 2)).astype(np.float32)
    y = (X[:, 0] > 1.6).astype(np.float32)  # about 5% positives
    plan = batch_plan(300, 32, 200, None, [0], ("shuffled", "shuffled"))
    plan = plan[:, [0, 0]]
    w = np.stack([np.ones(300), np.where(y[:300] == 1, 300 / (2 * y[:300].sum()), 300 / (2 * (300 - y[:300].sum())))])
    out = fit(np.stack([X[:300]] * 2), y[:300], np.stack([X[300:]] * 2), y[300:], plan, [0, 1], [0, 0],
              ("bce_logits",) * 2, "bce_logits", "binary", 1, 8, 1e-3, weights=w, metric="balanced_accuracy")
    plain, weighted = out.score_curves[:, -1]
    assert weighted > plain + 0.1  # weighting finds the rare class; the plain loss predicts the majority
    import torch

    from preflight.probes.train import _score

    # 8 rows, 2 of class 1: predicting all 0 is 75% accurate and 50% balanced; one hit makes it 75%
    y8 = torch.tensor([[0, 0, 0, 0, 0, 0, 1, 1.0]])
    z = torch.full((1, 8, 1), -1.0)
    assert _score("binary", z, y8, "accuracy")[0] == 0.75 and _score("binary", z, y8, "balanced_accuracy")[0] == 0.5
    z[0, 6, 0] = 1.0
    assert _score("binary", z, y8, "balanced_accuracy")[0] == 0.75


def test_second_run_is_a_cache_hit_and_no_cache_retrains(tmp_path):
    X, y, names = read_csv(heart_rate_csv())
    s = ProbeSettings(cache=True, cache_dir=str(tmp_path / "c"))
    first = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, s)
    second = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, s)
    assert first.cached is False and second.cached is True
    assert replace(second, cached=False) == first  # the evidence judged from cached measurements is the fresh one
    other = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, s.but(seeds=2))
    assert other.cached is False and other.seeds == 2
    again = probe_arrays(X, y, "binary", "PF101", Standardize(), ["heart_rate"], names, s.but(cache=False))
    assert again.cached is False


def test_the_cache_key_names_the_installed_torch():
    import torch

    from preflight.probes.run import library_versions

    assert library_versions() == {"torch": torch.__version__, "numpy": np.__version__}


def test_pf101_and_pf102_findings_on_one_file_train_once(tmp_path, monkeypatch):
    """Both rules fire and both fixes standardize the same two columns: one real training, two evidences."""
    from preflight.api import check
    from preflight.probes import train_numpy

    calls = []
    real = train_numpy.fit  # the default trainer on the CPU
    monkeypatch.setattr(train_numpy, "fit", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 1200), rng.normal(0, 1, 1200)
    y = (a + b + rng.normal(0, 0.5, 1200) > 0).astype(int)
    path = tmp_path / "two.csv"  # 'a' in raw units (mean 300, std 40), 'b' tiny and offset (mean 20, std 0.005)
    np.savetxt(path, np.c_[a * 40 + 300, b * 0.005 + 20, y], delimiter=",", header="a,b,label", comments="",
               fmt="%.8g")
    report = check(str(path), select=["PF1"], config={"probe": {"cache": False, "budget": 0.0}})
    assert sorted(f.code for f in report.findings) == ["PF101", "PF101", "PF102"]
    assert len(calls) == 1
    evidence = {f.code: f.probe for f in report.findings}
    assert evidence["PF101"].rule == "PF101" and evidence["PF102"].rule == "PF102"
    assert evidence["PF101"].columns == evidence["PF102"].columns == ("a", "b")
    assert evidence["PF101"].as_is == evidence["PF102"].as_is and evidence["PF102"].verdict == "confirmed"


CATALOG = sorted((ROOT / "rules").glob("PF*/evidence.json"))


def test_every_catalog_rule_with_a_probe_has_recorded_evidence():
    from preflight.checks import ALL_RULES

    # rules whose catalog example is data are probed on it; rules on code (.py examples) use the
    # packaged reference evidence of their fix (order.json, PF3xx: output-<kind>.json)
    data_rules = {r.code for r in ALL_RULES if r.fix_object and any(
        p for pattern in ("bad.csv", "bad_shards") for p in (ROOT / "rules").glob(f"{r.code}-*/{pattern}"))}
    assert {p.parent.name.split("-")[0] for p in CATALOG} == data_rules
    for r in ALL_RULES:
        if r.fix_object is not None and r.code not in data_rules:
            assert reference_evidence(r.code, r.fix_object) is not None, r.code


@pytest.mark.parametrize("path", CATALOG, ids=lambda p: p.parent.name)
def test_catalog_evidence_matches_a_fresh_run(path):
    """Sign and size of the gap on the catalog's bad example, within tolerance."""
    from preflight.probes.reference.__main__ import fresh_catalog

    code = path.parent.name.split("-")[0]
    recorded = Evidence.from_dict(json.loads(path.read_text()))
    now = fresh_catalog(code, path.parent)
    assert now.verdict == recorded.verdict
    assert now.as_is.failed == recorded.as_is.failed
    if recorded.gap.ratio is not None:
        assert now.gap.ratio == pytest.approx(recorded.gap.ratio, rel=0.1, abs=0.02)
        assert (now.gap.ratio < 1) == (recorded.gap.ratio < 1)


@pytest.mark.parametrize("kind", list(OUTPUT_KINDS))
def test_output_reference_evidence_matches_a_fresh_run(kind):
    from preflight.probes.reference.__main__ import fresh_output

    recorded = reference_evidence("PF3xx", StableLoss(kind))
    assert recorded is not None and recorded.data == "reference"
    now = fresh_output(kind)
    assert now.verdict == recorded.verdict == "confirmed"
    assert now.as_is.failed == recorded.as_is.failed
    if recorded.gap.ratio is not None:
        assert now.gap.ratio == pytest.approx(recorded.gap.ratio, rel=0.1, abs=0.02)


def test_code_findings_carry_reference_evidence_and_keep_their_severity(monkeypatch):
    from preflight.findings import Finding, Location, Severity
    from preflight.probes import attach_probes, run

    class CodeSubject:  # a .py file: no rows
        display = "train.py"

    # recorded evidence that is not_reproduced: a finding in code keeps its severity anyway, because
    # the reference data is not the user's
    recorded = replace(reference_evidence("PF203", ShuffleRows()), verdict="not_reproduced")
    f = Finding("PF102", "mixed-feature-scales", Severity.WARNING, "m", location=Location(path="train.py", line=3))
    with monkeypatch.context() as m:
        m.setattr(run, "reference_evidence", lambda code, fix: replace(recorded, rule=code))
        [g] = attach_probes([f], CodeSubject(), ProbeSettings())
    assert g.probe.data == "reference" and g.probe.verdict == "not_reproduced"
    assert g.severity == Severity.WARNING
    # an unshuffled loader in code (PF203) carries its fix's recorded example, PF201's
    f = Finding("PF203", "unshuffled-training-loader", Severity.WARNING, "m",
                location=Location(path="train.py", line=5))
    [g] = attach_probes([f], CodeSubject(), ProbeSettings())
    assert g.probe.data == "reference" and g.probe.about.endswith("PF201-label-sorted-rows/bad.csv")


def run_cli(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=cwd, capture_output=True, text=True,
                          env=env)


def test_cli_probe_writes_the_plot_and_check_prints_the_evidence(tmp_path):
    svg = tmp_path / "hr.svg"
    out = run_cli("probe", str(heart_rate_csv()), "--rule", "PF101", "--plot", str(svg))
    assert out.returncode == 0, out.stderr
    assert "PF101 probe confirmed (gap in 3 of 3 setups: " in out.stdout and "heart_rate" not in out.stderr
    assert svg.read_text().startswith("<svg")
    out = run_cli("check", str(heart_rate_csv()), "--probe-budget", "1")
    assert out.returncode == 1
    assert "    probe: confirmed, best held-out BCE " in out.stdout
    out = run_cli("check", str(heart_rate_csv()), "--format", "json")
    [f] = json.loads(out.stdout)["findings"]
    assert f["probe"]["verdict"] == "confirmed" and f["probe"]["data"] == "user"


@pytest.mark.parametrize("args, message", [
    (("probe", "examples/heart_rate.csv", "--rule", "PF999"), "no probe for rule 'PF999'"),
    (("probe", "missing.csv", "--rule", "PF101"), "missing.csv"),
    (("probe", "examples/heart_rate_scaled.csv", "--rule", "PF101"), "PF101 flags no column here"),
])
def test_cli_probe_bad_input_is_one_line_and_exit_2(args, message):
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_str_of_a_report_shows_the_probe_evidence_as_the_cli_does(tmp_path):
    from preflight import check

    data = tmp_path / "heart_rate.csv"
    data.write_bytes((ROOT / "examples" / "heart_rate.csv").read_bytes())
    report = check(str(data), config={"probe": {"cache": False}})
    from preflight.report.text import TextOptions, render_text

    probe_lines = [ln for ln in str(report).splitlines() if ln.startswith("    probe: ")]
    assert len(probe_lines) == 1 and probe_lines[0].startswith("    probe: confirmed, best held-out BCE ")
    full = [ln for ln in render_text(report, TextOptions(show_probe=True)).splitlines() if ln.startswith("    probe: ")]
    assert len(full) == 1 and full[0].startswith("    probe: confirmed (gap in ")
    assert ": MLP 1-32-1 (ReLU), Adam lr 0.001" in full[0]
