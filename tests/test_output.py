"""The text output a user scans (issue 14): one line per rule per file, -v, --statistics, colour, the
probe's verdict in a few words, the progress line's bytes; and the small CLI bugs (a bare
``preflight``, a cp1252 standard output, ``probe --format`` / ``--column``, JSON errors as objects)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from preflight.findings import Evidence, Finding, Location, Report, Severity
from preflight.report.evidence import render_verdict
from preflight.report.github import render_github
from preflight.report.grouping import group_findings
from preflight.report.progress import Progress, row_bytes, size_words, use_color
from preflight.report.text import TextOptions, render_text, tally
from tests.conftest import ROOT, check_golden, run_cli

SNAP = ROOT / "tests" / "snapshots"
HEART = "examples/heart_rate.csv"
NAN_CONST = "rules/PF104-non-finite-values/bad.csv"


def write_wide(path: Path, rows: int = 300) -> None:
    """200 features with no random numbers: 150 far from mean 0 / std 1 (PF101's one finding for a wide
    table), 20 with empty cells (PF104), 5 constant (PF103), and a 0/1 label."""
    names = [f"f{i:03d}" for i in range(200)]
    lines = [",".join([*names, "label"])]
    for r in range(rows):
        cells = []
        for i in range(200):
            if i < 150:
                cells.append(str(100 + (r * 7 + i * 13) % 61))
            elif i < 170:
                cells.append("" if r % 10 == i % 10 else f"{((r * 3 + i) % 7 - 3) / 3:.3f}")
            elif i < 175:
                cells.append("1")
            else:
                cells.append(f"{((r * 5 + i) % 9 - 4) / 4:.3f}")
        lines.append(",".join([*cells, str(r % 2)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


TRANSCRIPTS = {
    "check_verbose": (["check", "--no-probe", "-v", HEART, NAN_CONST, "examples/vae.py"], {}),
    "check_show_fixes": (["check", "--no-probe", "--show-fixes", NAN_CONST, "examples/vae.py"], {}),
    "check_statistics": (["check", "--no-probe", "--statistics", "examples", NAN_CONST], {}),
    "check_color_forced": (["check", "--no-probe", HEART, "examples/softmax_classifier.py"], {"FORCE_COLOR": "1"}),
    "check_statistics_color": (["check", "--no-probe", "--statistics", "examples"], {"FORCE_COLOR": "1"}),
    "check_no_color": (["check", "--no-probe", HEART, "examples/softmax_classifier.py"],
                       {"FORCE_COLOR": "1", "NO_COLOR": "1"}),
    "check_reference_probe": (["check", "examples/vae.py"], {}),
}


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_transcript(name, monkeypatch):
    args, env = TRANSCRIPTS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run_cli(args, cwd=ROOT)
    assert "Traceback" not in result.stdout + result.stderr
    prefix = "".join(f"{k}={v} " for k, v in env.items())
    check_golden(SNAP / f"{name}.txt", prefix + result.transcript(args))


def test_a_200_column_file_prints_one_line_per_rule(tmp_path):
    write_wide(tmp_path / "wide.csv")
    args = ["check", "--no-probe", "wide.csv"]
    result = run_cli(args, cwd=tmp_path)
    check_golden(SNAP / "check_wide.txt", result.transcript(args))
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["PF101", "PF103", "PF104"]
    assert lines[-1] == "Found 3 problems in 1 file (0 errors, 3 warnings, 0 info)."
    assert lines[1].startswith("wide.csv: PF103 constant-feature [f170, f171, f172, f173, f174] ")
    assert "[f150, f151, f152, f153, f154, f155, f156, f157, +12 more] " in lines[2]
    # JSON keeps one finding per column, each with its own numbers
    data = json.loads(run_cli(["check", "--no-probe", "--format", "json", "wide.csv"], cwd=tmp_path).stdout)
    nan = [f for f in data["findings"] if f["code"] == "PF104"]
    assert [f["column"] for f in nan] == [f"f{i}" for i in range(150, 170)]
    assert all(f["message"].startswith("30 missing of 300 rows") for f in nan)
    # -v shows each column's message under the one line
    verbose = run_cli(["check", "--no-probe", "-v", "wide.csv"], cwd=tmp_path).stdout.splitlines()
    assert sum(line.startswith("    [f1") for line in verbose) == 25  # 5 constant, 20 with missing cells


def test_clean_files_print_no_header_unless_verbose():
    quiet = run_cli(["check", "--no-probe", "examples/shuffled.csv"], cwd=ROOT)
    assert quiet.code == 0 and quiet.stdout == "No problems found in 1 file (0 errors, 0 warnings, 0 info).\n"
    verbose = run_cli(["check", "--no-probe", "-v", "examples/shuffled.csv"], cwd=ROOT)
    assert verbose.stdout.splitlines()[0].startswith("examples/shuffled.csv: 5,000 rows x 21 columns; target 'label'")


def finding(code="PF104", column=None, line=None, path="t.csv", message="m", fix="", severity=Severity.WARNING):
    return Finding(code, "non-finite-values", severity, message, fix, Location(path=path, column=column, line=line))


def test_grouping_joins_one_rules_columns_of_one_file_and_keeps_code_findings_apart():
    report = Report.build([finding(column="b", message="2 missing"), finding(column="a", message="1 missing"),
                           finding(column="a", path="u.csv"), finding(code="PF103", column="c"),
                           finding(code="PF301", line=3, path="m.py"), finding(code="PF301", line=9, path="m.py")])
    groups = group_findings(report.findings)
    assert [(g.first.location.path, g.first.code, g.columns) for g in groups] == [
        ("m.py", "PF301", []), ("m.py", "PF301", []), ("t.csv", "PF103", ["c"]),
        ("t.csv", "PF104", ["b", "a"]), ("u.csv", "PF104", ["a"])]  # the rule's column order (the table's)
    text = render_text(report).splitlines()
    assert text[3] == "t.csv: PF104 non-finite-values [b, a] b: 2 missing; 1 more column (-v shows each)"
    assert tally(report) == "Found 5 problems in 0 files (0 errors, 5 warnings, 0 info)."


def test_a_group_takes_its_most_severe_member_and_one_fix_line_when_the_fixes_agree():
    report = Report.build([finding(column="a", fix="impute"), finding(column="b", fix="impute",
                                                                       severity=Severity.ERROR)])
    lines = render_text(report, TextOptions(show_fixes=True)).splitlines()
    assert lines[0].startswith("t.csv: PF104 non-finite-values [a, b] (error) m")  # same message: said once
    assert lines[1:] == ["    fix: impute", "Found 1 problem in 0 files (1 error, 0 warnings, 0 info)."]


def test_github_annotates_each_group_once_with_every_column():
    report = Report.build([finding(column="a", message="1 missing"), finding(column="b", message="2 missing")])
    lines = render_github(report, quiet=True).splitlines()
    assert lines == ["::warning file=t.csv,line=1,title=PF104 non-finite-values::[a] 1 missing%0A[b] 2 missing"]


def test_the_verdict_in_a_few_words_and_reference_data_said_first():
    ev = Evidence.from_dict(json.loads((ROOT / "rules/PF101-unnormalized-feature/evidence.json").read_text()))
    words = render_verdict(ev)
    assert words.startswith("confirmed, best held-out BCE ") and " -> " in words and "▁" not in words
    assert render_verdict(Evidence("skipped", reason="no target")) == "skipped: no target"
    ref = Finding("PF101", "unnormalized-feature", Severity.WARNING, "m", location=Location("t.csv", column="x"),
                  probe=Evidence.from_dict({**ev.to_dict(), "data": "reference"}))
    assert render_text(Report.build([ref])).splitlines()[1] == f"    probe (reference data): {words}"
    full = render_text(Report.build([ref]), TextOptions(show_probe=True)).splitlines()[1]
    assert "setups" in full and "as-is " in full and full.startswith("    probe (reference data): confirmed (gap in")


def test_statistics_count_problems_per_rule_most_first():
    result = run_cli(["check", "--no-probe", "--statistics", "-q", "examples"], cwd=ROOT)
    assert result.stdout.splitlines() == ["3  PF301  sigmoid-before-bce-loss", "1  PF101  unnormalized-feature",
                                          "1  PF201  label-sorted-rows", "1  PF203  unshuffled-training-loader",
                                          "1  PF302  softmax-before-cross-entropy"]


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color_and_forced_by_force_color(monkeypatch):
    assert use_color(TTY()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(TTY())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not use_color(TTY())  # NO_COLOR wins
    monkeypatch.delenv("NO_COLOR")
    assert use_color(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "0")
    assert not use_color(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = run_cli(["check", "--no-probe", HEART], cwd=ROOT)
    assert "\x1b[1mexamples/heart_rate.csv:\x1b[0m \x1b[33m\x1b[1mPF101\x1b[0m" in result.stdout


def test_colour_never_reaches_a_report_file_or_a_name_in_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = tmp_path / "report.txt"
    assert run_cli(["check", "--no-probe", "-o", str(out), HEART], cwd=ROOT).code == 1
    assert "\x1b" not in out.read_text()
    (tmp_path / "esc.csv").write_text("a\x1b[31mb,label\n" + "".join(f"{90 + i % 30},{i % 2}\n" for i in range(200)))
    shown = run_cli(["check", "--no-probe", "esc.csv"], cwd=tmp_path).stdout
    assert "[a\\x1b[31mb]" in shown and "\x1b[31m" not in shown


def test_progress_shows_bytes_read_of_the_files_size_with_a_percentage_and_eta(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "big.csv"
    path.write_text("x,label\n" + "".join(f"{i % 97:05d},{i % 2}\n" for i in range(100_000)))  # 8 bytes a row
    assert row_bytes(str(path)) == 8.0 and row_bytes(str(tmp_path / "a.parquet")) == 0.0
    clock = [100.0]
    bar = Progress(TTY(), enabled=True, clock=lambda: clock[0])
    bar.reading(str(path), 0, 1)
    clock[0] += 10
    bar.rows_read(25_000)
    assert "| 25,000 rows | ~200 KB of 800 KB (25%, ETA 30 s) | reading " in bar.line()
    bar.rows_read(200_000)  # an underestimate of the row length never shows more than 99%
    assert "~792 KB of 800 KB (99%" in bar.line()
    bar.file_done(str(path))
    assert "KB" not in bar.line()
    assert [size_words(n) for n in (812, 64_000, 1_234_000_000)] == ["812 B", "64.0 KB", "1.2 GB"]


def test_bare_preflight_prints_the_usage_once():
    result = run_cli([])
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.count("Usage: preflight") == 1 and "error:" not in result.stderr
    assert "Commands:" in result.stderr


def test_a_cp1252_standard_output_writes_what_it_cannot_encode_as_escapes(tmp_path):
    (tmp_path / "h.csv").write_text("temp\u2588,label\n" + "".join(f"{90 + i % 30},{i % 2}\n" for i in range(200)),
                                    encoding="utf-8")
    runner = CliRunner(charset="cp1252")
    from preflight.cli import main

    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        with runner.isolation() as (out, err, _), pytest.raises(SystemExit) as exit_:
            main(["check", "--no-probe", "h.csv"])
    finally:
        os.chdir(old)
    assert exit_.value.code == 1, err.getvalue()
    assert out.getvalue().decode("cp1252").startswith("h.csv: PF101 unnormalized-feature [temp\\u2588] mean ")


@pytest.mark.slow  # spawns preflight
def test_a_cp1252_standard_output_in_a_real_process(tmp_path):
    (tmp_path / "h.csv").write_text("temp\u2588,label\n" + "".join(f"{90 + i % 30},{i % 2}\n" for i in range(200)),
                                    encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "preflight", "check", "--no-probe", "h.csv"], cwd=tmp_path, env=env,
                          capture_output=True)
    assert proc.returncode == 1, proc.stderr
    assert b"[temp\\u2588]" in proc.stdout and b"UnicodeEncodeError" not in proc.stderr


def test_probe_accepts_only_the_formats_it_writes():
    for fmt in ("sarif", "github", "html"):
        result = run_cli(["probe", HEART, "--rule", "PF101", "--format", fmt], cwd=ROOT)
        assert result.code == 2 and f"'{fmt}' is not one of 'text', 'json'" in result.stderr


def test_probe_with_an_unknown_column_names_the_columns():
    result = run_cli(["probe", HEART, "--rule", "PF101", "--column", "nope"], cwd=ROOT)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "error: examples/heart_rate.csv: no column named 'nope' for --column; columns are: heart_rate, label")


def test_json_errors_are_objects_with_the_path_and_the_message(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    result = run_cli(["check", "--no-probe", "--format", "json", "missing.csv", "empty.csv", str(ROOT / HEART)],
                     cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.code == 2
    assert data["errors"] == [
        {"path": "missing.csv", "message": "missing.csv: no such file or directory"},
        {"path": "empty.csv", "message": "empty.csv: is empty; there is nothing to check"}]
    assert [f["code"] for f in data["findings"]] == ["PF101"]


def test_a_grouped_line_names_the_tables_first_columns_not_the_alphabets():
    names = [f"miss{i}" for i in range(20)]  # the order a rule reports them in: the table's
    report = Report.build([finding(column=c, message="1 missing") for c in names])
    line = render_text(report).splitlines()[0]
    assert line.startswith("t.csv: PF104 non-finite-values [miss0, miss1, miss2, miss3, miss4, miss5, miss6, miss7, "
                           "+12 more]"), line
