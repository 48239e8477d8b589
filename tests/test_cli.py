"""CLI transcripts (args, exit code, stdout, stderr in one golden file) and exit-code behaviour."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import ROOT, check_golden, run_cli

SNAP = ROOT / "tests" / "snapshots"
HEART = "examples/heart_rate.csv"

TRANSCRIPTS = {
    "check_heart_rate": ["check", "--no-probe", HEART],
    "check_examples_dir": ["check", "--no-probe", "examples"],
    "check_quiet": ["check", "--no-probe", "-q", "examples/sorted_by_label.csv"],
    "check_missing_path": ["check", "--no-probe", "examples/nope.csv"],
    "check_unknown_target": ["check", "--no-probe", "--target", "lable", HEART],
    "check_unknown_code": ["check", "--no-probe", "--select", "PF999", HEART],
    "check_ignore": ["check", "--no-probe", "--ignore", "PF1", HEART],
    "check_exit_zero": ["check", "--no-probe", "--exit-zero", HEART],
    "check_fail_on_error": ["check", "--no-probe", "--fail-on", "error", HEART],
    "rules": ["rules"],
    "explain_unknown": ["explain", "PF000"],
}


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_transcript(name):
    args = TRANSCRIPTS[name]
    result = run_cli(args, cwd=ROOT)
    assert "Traceback" not in result.stdout + result.stderr
    check_golden(SNAP / f"{name}.txt", result.transcript(args))


def test_exit_codes():
    assert run_cli(["check", "--no-probe", HEART], cwd=ROOT).code == 1
    assert run_cli(["check", "--no-probe", "examples/shuffled.csv"], cwd=ROOT).code == 0
    assert run_cli(["check", "--no-probe", "--exit-zero", HEART], cwd=ROOT).code == 0
    assert run_cli(["check", "--no-probe", "--fail-on", "error", HEART], cwd=ROOT).code == 0
    assert run_cli(["check", "--no-probe", "nope.csv"], cwd=ROOT).code == 2
    assert run_cli(["check", "--no-probe", "--select", "XX1", HEART], cwd=ROOT).code == 2
    assert run_cli(["check", "--no-probe", "--exit-zero", "nope.csv"], cwd=ROOT).code == 2


def test_json_format_carries_every_finding_with_the_documented_keys():
    result = run_cli(["check", "--no-probe", "--format", "json", "examples"], cwd=ROOT)
    data = json.loads(result.stdout)
    assert set(data) == {"findings", "summary", "errors"}
    assert [(f["code"], f["path"], f["column"], f["line"]) for f in data["findings"]] == [
        ("PF301", "examples/gan_discriminator.py", None, 36),
        ("PF301", "examples/gan_discriminator.py", None, 40),
        ("PF101", "examples/heart_rate.csv", "heart_rate", None),
        ("PF302", "examples/softmax_classifier.py", None, 29),
        ("PF201", "examples/sorted_by_label.csv", "label", None),
        ("PF203", "examples/unshuffled_loader.py", None, 13),
        ("PF301", "examples/vae.py", None, 39),
    ]
    for f in data["findings"]:
        assert {"code", "name", "severity", "path", "column", "line", "col", "message", "probe"} <= set(f)
        assert f["probe"] is None
        if f["path"].endswith(".csv"):  # data findings name a column; code findings a line and column
            assert f["line"] is None and f["col"] is None and f["severity"] == "warning"
        else:
            assert f["column"] is None and f["line"] >= 1 and f["col"] >= 1
    assert data["summary"]["counts"] == {"info": 0, "warning": 6, "error": 1}
    assert [s["path"] for s in data["summary"]["files"]] == [
        "examples/__init__.py", "examples/gan_discriminator.py", "examples/guard.py", "examples/heart_rate.csv",
        "examples/heart_rate_scaled.csv", "examples/live_images.py", "examples/make_examples.py",
        "examples/shuffled.csv", "examples/softmax_classifier.py", "examples/sorted_by_label.csv",
        "examples/unshuffled_loader.py", "examples/vae.py"]


def test_output_file_and_inputs_untouched(tmp_path):
    src = ROOT / HEART
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    listing = sorted(p.name for p in src.parent.iterdir())
    out = tmp_path / "report.json"
    result = run_cli(["check", "--no-probe", "--format", "json", "-o", str(out), HEART], cwd=ROOT)
    assert result.code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["findings"][0]["code"] == "PF101"
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in src.parent.iterdir()) == listing


def test_one_bad_file_among_good_ones_is_reported_and_the_rest_checked(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ok.csv").write_bytes((ROOT / HEART).read_bytes())
    result = run_cli(["check", "--no-probe", str(tmp_path)])
    assert result.code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'empty.csv'}: is empty; there is nothing to check"
    assert "PF101 unnormalized-feature [heart_rate]" in result.stdout


def test_python_m_preflight_runs(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "preflight", "rules"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "PF201  label-sorted-rows" in proc.stdout


def test_help_states_the_probe_budget_default():
    from preflight.probes.settings import DEFAULT_BUDGET

    check_help = run_cli(["check", "--help"]).stdout
    probe_help = run_cli(["probe", "--help"]).stdout
    assert f"[default: {DEFAULT_BUDGET:g}]" in " ".join(check_help.split())
    assert f"else {DEFAULT_BUDGET:g}]" in " ".join(probe_help.split())
