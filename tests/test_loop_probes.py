"""The training-loop rules' recorded probe evidence (PF501-PF506, ``LoopFix``,
``preflight.probes.reference.loops``): attached to findings in code as reference data, shown in text,
JSON and SARIF, recorded == a fresh run, the gap where there is one and none from a no-op fix."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from importlib import resources

import numpy as np
import pytest

from preflight.checks.loop_fixes import LOOP_KINDS, LoopFix
from preflight.findings import Evidence
from preflight.probes.reference import file_name, reference_evidence
from tests.conftest import ROOT, run_cli

RULES = {"PF501": "zero_grad", "PF502": "eval_mode", "PF503": "loss_item", "PF504": "train_mode",
         "PF505": "set_epoch", "PF506": "divide_loss"}


def folder(code: str):
    return next((ROOT / "rules").glob(f"{code}-*"))


def recorded(kind: str) -> Evidence:
    ev = reference_evidence("PF5xx", LoopFix(kind))
    assert ev is not None, kind
    return ev


# --- recorded evidence, attached --------------------------------------------------------------------

def test_every_loop_rule_names_its_loop_fix_and_its_evidence_is_packaged():
    from preflight.checks import RULES_BY_CODE

    assert {c: RULES_BY_CODE[c].fix_object for c in RULES} == {c: LoopFix(k) for c, k in RULES.items()}
    assert set(RULES.values()) == set(LOOP_KINDS)
    packaged = {p.name for p in resources.files("preflight.probes.reference").iterdir()}
    for code, kind in RULES.items():
        assert file_name(LoopFix(kind)) == f"loop-{kind}.json" and f"loop-{kind}.json" in packaged
        ev = reference_evidence(code, LoopFix(kind))
        assert ev is not None and ev.rule == code and ev.data == "reference" and ev.family == f"loop:{kind}"
        assert ev.seeds == 3 and ev.steps == 600 and [p.name for p in ev.panel] == ["sgd", "adam-default"]


def test_recorded_verdicts_and_gaps_are_the_measured_ones():
    """What the recorded runs say (the slow tests below check a fresh run gives the same)."""
    verdicts = {k: recorded(k).verdict for k in LOOP_KINDS}
    assert verdicts == {"zero_grad": "confirmed", "eval_mode": "not_reproduced", "loss_item": "confirmed",
                        "train_mode": "not_reproduced", "set_epoch": "not_reproduced",
                        "divide_loss": "not_reproduced"}
    z = recorded("zero_grad")
    assert z.gap.ratio < 0.8 and z.shown_by == ("sgd", "adam-default")
    sgd = z.panel[0]
    assert sgd.as_is_last > 100 * sgd.fixed_last  # SGD on summed gradients blows up
    m = recorded("loss_item")
    assert m.judged_on == "memory" and m.loss == "autograd nodes kept alive" and "no loss gap" in m.reason
    assert m.fixed.final == 0 and m.as_is.final > 1000 and m.gap.ratio == 0
    assert list(m.as_is.curve) == sorted(set(m.as_is.curve))  # grows at every evaluation
    adam = recorded("divide_loss").panel[1]
    assert adam.name == "adam-default" and adam.fixed_best == pytest.approx(adam.as_is_best, rel=1e-3)


def check_file(path, fmt="text"):
    """The check of ``path``; in text, with the probe's full evidence (``--show-probe``)."""
    return run_cli(["check", "--format", fmt, *(["--show-probe"] if fmt == "text" else []), str(path)])


def test_a_loop_finding_shows_its_recorded_evidence_in_text_json_and_sarif():
    bad = folder("PF501") / "bad.py"
    text = check_file(bad)
    assert text.code == 1, text.stderr
    probe_line = next(line for line in text.stdout.splitlines() if line.startswith("    probe (reference data): "))
    z = recorded("zero_grad")
    assert probe_line.startswith("    probe (reference data): confirmed (gap in 2 of 2 setups: sgd, adam-default")
    assert "on reference data" in probe_line and f"({z.gap.ratio:.2g}x)" in probe_line
    assert "PF501 gradients-never-zeroed (error)" in text.stdout  # reference evidence keeps the severity
    [finding] = json.loads(check_file(bad, "json").stdout)["findings"]
    assert finding["probe"] == dict(z.to_dict(), rule="PF501")
    sarif = json.loads(check_file(bad, "sarif").stdout)
    [result] = sarif["runs"][0]["results"]
    assert result["properties"]["probe"]["family"] == "loop:zero_grad"
    assert result["properties"]["probe"]["data"] == "reference"


def test_no_gap_is_said_plainly_and_the_finding_keeps_its_severity():
    # PF505's reference run shows no gap: the finding still warns (reference data is not the user's), as
    # PF3xx findings do with theirs
    out = check_file(folder("PF505") / "bad.py")
    assert "PF505 sampler-epoch-never-set this DistributedSampler" in out.stdout  # a warning: no level shown
    assert "    probe (reference data): not_reproduced (no gap in any of 2 setups: sgd, adam-default)" in out.stdout
    [finding] = json.loads(check_file(folder("PF505") / "bad.py", "json").stdout)["findings"]
    assert finding["severity"] == "warning" and finding["probe"]["verdict"] == "not_reproduced"


def test_pf503_shows_the_memory_it_measured_not_a_held_out_loss():
    out = check_file(folder("PF503") / "bad.py")
    line = next(line for line in out.stdout.splitlines() if line.startswith("    probe (reference data): "))
    m = recorded("loss_item")
    assert f"autograd nodes kept alive after the last step {m.as_is.final:.2e} -> 0 (0x)" in line
    assert "held-out" not in line


def test_memory_words_in_the_gap_sentence():
    from preflight.report.evidence import gap_sentence

    m = recorded("loss_item")
    assert gap_sentence(m).startswith(f"autograd nodes kept alive after the last step {int(m.as_is.final)} as-is, "
                                      "0 fixed")
    assert gap_sentence(replace(m, judged_on="loss")).startswith("final held-out autograd")  # the words follow it


def test_a_loop_fix_on_a_table_is_skipped_with_the_reason(tmp_path):
    from preflight.probes import probe_arrays

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 3)), rng.integers(0, 2, 400).astype(float)
    ev = probe_arrays(X, y, "binary", "PF501", LoopFix("zero_grad"))
    assert ev.verdict == "skipped" and "change to the training loop, not to the data" in ev.reason


# --- fresh runs (torch) ------------------------------------------------------------------------------

@cache
def fresh(kind: str) -> Evidence:
    from preflight.probes.reference.loops import measure

    return measure(kind)


DIVERGED = 10.0  # a held-out cross-entropy above this on two balanced classes: the run has diverged


def same(a, b, path=""):
    """Equal JSON values, floats to 1e-3: the recording was made on another CPU, whose vector units round
    differently (a run on one machine repeats exactly: ``test_a_loop_probe_gives_the_same_numbers_twice``).
    Two numbers that both say a run diverged (PF501's gradients summed without zeroing reach losses in
    the hundreds, where rounding moves them by a fifth) only need to agree on that."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert min(a, b) > DIVERGED or a == pytest.approx(b, rel=1e-3, abs=1e-6), path
    else:
        assert a == b, path


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(LOOP_KINDS))
def test_recorded_loop_evidence_is_a_fresh_run(kind):
    now, then = fresh(kind).to_dict(), recorded(kind).to_dict()
    same(then, dict(now, rule="PF5xx"))


@pytest.mark.slow
def test_a_loop_probe_gives_the_same_numbers_twice():
    from preflight.probes.reference.loops import measure

    assert measure("divide_loss").to_dict() == fresh("divide_loss").to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zero_grad", "loss_item", "eval_mode"])
def test_a_no_op_fix_gives_no_gap(kind, monkeypatch):
    """The as-is loop in both variants: ratio exactly 1, no setup shows a gap. The same code with the
    real fix gives the recorded gap, so that gap is the fix's."""
    from preflight.probes.reference import loops

    monkeypatch.setattr(loops, "ITERATIONS", 120)
    ev = loops.measure(kind, fixed_is_bug=True)
    assert ev.verdict == "not_reproduced" and ev.shown_by == ()
    assert ev.gap.ratio == 1.0
    assert ev.as_is.curves == ev.fixed.curves


@pytest.mark.slow
def test_the_gap_direction_where_the_bug_costs():
    z = fresh("zero_grad")
    assert all(p.fixed_last < p.as_is_last for p in z.panel)  # never zeroed: worse after the last step
    # evaluating in train mode reports a worse held-out loss than the model has, in every seed
    e = fresh("eval_mode")
    assert all(a > f for a, f in zip(e.as_is.per_seed["best"], e.fixed.per_seed["best"]))
    assert "makes autograd save" in e.notes[0] and "under no_grad 0" in e.notes[0]
    # the accumulator's graph grows by the same number of nodes every evaluation; .item() keeps none
    m = fresh("loss_item")
    steps = np.diff(m.as_is.curve)
    assert (steps > 0).all() and len(set(steps[1:])) == 1 and set(m.fixed.curve) == {0.0}
    assert "0 with .item()" in m.notes[1]


@pytest.mark.slow
def test_graph_nodes_and_saved_bytes_measure_what_they_say():
    import torch

    from preflight.probes.reference.loops import graph_nodes, saved_bytes

    w = torch.ones(4, requires_grad=True)
    total = torch.zeros(())
    for _ in range(5):
        total = total + (w * 2).sum()  # Mul, Sum, Add per iteration, one AccumulateGrad for w
    assert graph_nodes(total) == 3 * 5 + 1 and graph_nodes(1.5) == 0 and graph_nodes(total.detach()) == 0
    x = torch.ones(1000, requires_grad=True)
    assert saved_bytes(lambda: (x.exp() * 2).sum()) == 4000  # exp saves its 1000-float result
    assert saved_bytes(lambda: (x.exp() * 2).sum().item()) == 0  # freed with the graph
    with torch.no_grad():
        assert saved_bytes(lambda: (x.exp() * 2).sum()) == 0


def test_the_memory_plot_is_labelled_with_what_it_counts():
    from preflight.report.curves import loss_curves_svg

    svg = loss_curves_svg(recorded("loss_item"), title="PF503")
    assert "Autograd nodes kept alive per step, as-is against fixed." in svg and "held-out autograd" not in svg
    assert "Held-out cross-entropy per step" in loss_curves_svg(recorded("zero_grad"), title="PF501")
