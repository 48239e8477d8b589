"""--format github: workflow commands that GitHub turns into annotations on a pull request."""

from __future__ import annotations

import re
from pathlib import Path

from preflight.findings import Finding, Location, Report, Severity
from preflight.report.github import annotation, escape_data, escape_property, render_github
from tests.conftest import ROOT, run_cli

COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """Read a workflow command back as the runner does: split, then undo the escapes."""
    m = COMMAND.match(line)
    assert m, line
    props = {}
    for pair in m["props"].split(","):
        key, _, value = pair.partition("=")
        props[key] = _unescape(value)
    return m["cmd"], props, _unescape(m["data"])


def _unescape(s: str) -> str:
    return (s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("50% of rows\r\nnext") == "50%25 of rows%0D%0Anext"
    assert escape_property("a,b:c%d\n") == "a%2Cb%3Ac%25d%0A"
    assert escape_data("a,b:c") == "a,b:c"  # commas and colons are fine in the message


def test_a_hostile_path_and_message_round_trip() -> None:
    f = Finding("PF201", "label-sorted-rows", Severity.WARNING, "longest run 50% of rows\nsecond line: x, y",
                "shuffle", Location(path="data/a,b:c%.csv", column="la,bel"))
    line = annotation(f)
    assert "\n" not in line and line.count("::") == 2
    cmd, props, data = parse(line)
    assert cmd == "warning"
    assert props == {"file": "data/a,b:c%.csv", "line": "1", "title": "PF201 label-sorted-rows"}
    # the newline inside the message is data (a name can hold one): written as the two characters \n
    assert data == "[la,bel] longest run 50% of rows\\nsecond line: x, y\nfix: shuffle"


def test_levels_lines_and_columns() -> None:
    report = Report.build([
        Finding("PF104", "non-finite-values", Severity.ERROR, "NaN", "", Location(path="x.parquet", column="f0")),
        Finding("PF101", "unnormalized-feature", Severity.INFO, "big", "", Location(path="x.csv", column="a")),
        Finding("PF301", "sigmoid-before-bceloss", Severity.WARNING, "sig", "", Location(path="t.py", line=7, col=9)),
    ], errors=["gone.csv: could not be read (truncated)"])
    lines = render_github(report, quiet=True).splitlines()
    parsed = [parse(line) for line in lines]
    assert [(c, p.get("file"), p.get("line"), p.get("col")) for c, p, _ in parsed] == [
        ("warning", "t.py", "7", "9"),  # code: line and column
        ("notice", "x.csv", "1", None),  # CSV: the header row
        ("error", "x.parquet", None, None),  # binary: the file only
        ("error", None, None, None),
    ]
    assert parsed[-1][2] == "gone.csv: could not be read (truncated)"
    assert not render_github(report, quiet=False).splitlines()[-1].startswith("::")  # the tally


def test_cli_github_format_on_a_label_sorted_file() -> None:
    result = run_cli(["check", "--no-probe", "--format", "github", "rules/PF201-label-sorted-rows/bad.csv",
                      "rules/PF201-label-sorted-rows/good.csv"], cwd=ROOT)
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::warning file=rules/PF201-label-sorted-rows/bad.csv,line=1,"
                               "title=PF201 label-sorted-rows::[label] 2 runs of equal labels")
    assert "%0Afix: shuffle the rows" in lines[0]
    assert sum(line.startswith("::") for line in lines) == 1  # the good file has nothing
    assert lines[-1] == "Found 1 problem in 2 files (0 errors, 1 warning, 0 info)."
    quiet = run_cli(["check", "--no-probe", "--format", "github", "-q", "rules/PF201-label-sorted-rows/bad.csv"],
                    cwd=ROOT)
    assert quiet.stdout.splitlines() == lines[:1]
    assert quiet.stderr == ""


def test_cli_github_format_reports_unreadable_input(tmp_path: Path) -> None:
    bad = tmp_path / "empty.csv"
    bad.write_text("a,b\n", encoding="utf-8")
    result = run_cli(["check", "--no-probe", "--format", "github", str(bad)])
    assert result.code == 2
    cmd, props, data = parse(result.stdout.splitlines()[0])
    assert cmd == "error" and props == {"title": "preflight: input not read"}
    assert data.startswith(str(bad)) and "no rows" in data
