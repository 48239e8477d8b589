"""Progress on stderr: drawn on a terminal, nothing at all anywhere else, silenced by --quiet."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from preflight import config as cfg
from preflight.engine import RunOptions, check_paths
from preflight.report.progress import Progress
from tests.conftest import ROOT


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_not_a_terminal_means_no_output() -> None:
    stream = io.StringIO()
    bar = Progress(stream)
    assert bar.enabled is False
    bar.reading("a.csv", 0, 2)
    bar.rows_read(1000)
    bar.file_done("a.csv")
    bar.probing("a.csv", 2)
    bar.close()
    assert stream.getvalue() == ""


def test_terminal_draws_after_the_delay_and_erases_on_close(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream, clock = FakeTTY(), Clock()
    bar = Progress(stream, clock=clock)
    assert bar.enabled
    bar.reading("data/a.csv", 0, 2)
    bar.rows_read(500)
    assert stream.getvalue() == ""  # a quick run shows nothing
    clock.now += Progress.DELAY + 0.01
    bar.rows_read(1500)
    line = stream.getvalue()
    assert line == "\rpreflight [                    ] 0/2 files | 2,000 rows | reading data/a.csv"
    bar.file_done("data/a.csv")
    assert stream.getvalue().endswith("\rpreflight [==========          ] 1/2 files | 2,000 rows | checked data/a.csv")
    bar.probing("data/a.csv", 2)
    assert stream.getvalue().endswith("1 probe | training probe for 2 findings of data/a.csv")
    before = len(stream.getvalue())
    bar.rows_read(1)  # within INTERVAL of the last draw: not redrawn
    assert len(stream.getvalue()) == before
    bar.close()
    tail = stream.getvalue()[before:]
    assert tail.startswith("\r") and tail.endswith("\r") and tail.strip() == ""


def test_a_narrow_terminal_gets_a_truncated_line(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    stream, clock = FakeTTY(), Clock()
    bar = Progress(stream, clock=clock)
    clock.now += 1
    bar.reading("a/very/long/path/to/some/training/data.csv", 0, 1)
    drawn = stream.getvalue()
    assert drawn.startswith("\rpreflight [") and drawn.endswith("...") and len(drawn) == 1 + 39


def test_quiet_disables_even_on_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert Progress.for_stderr(quiet=True).enabled is False
    assert Progress.for_stderr(quiet=False).enabled is True


def test_engine_reports_every_file_and_every_row() -> None:
    seen: list[tuple[str, int, int]] = []
    rows: list[int] = []
    done: list[str] = []
    files = ["examples/heart_rate.csv", "examples/sorted_by_label.csv"]
    check_paths([str(ROOT / f) for f in files], cfg.Config(), RunOptions(probe=False),
                on_file=done.append, on_read=lambda p, i, n: seen.append((Path(p).name, i, n)), on_rows=rows.append)
    assert seen == [("heart_rate.csv", 0, 2), ("sorted_by_label.csv", 1, 2)]
    data_rows = sum(len((ROOT / f).read_text(encoding="utf-8").splitlines()) - 1 for f in files)
    assert data_rows > 2000 and sum(rows) == data_rows  # every data row, counted once
    assert [Path(d).name for d in done] == ["heart_rate.csv", "sorted_by_label.csv"]


def test_engine_announces_probes() -> None:
    calls: list[tuple[str, int]] = []
    check_paths([str(ROOT / "examples/heart_rate.csv")], cfg.Config(),
                RunOptions(probe=True, probe_hook=lambda fs, s, c: fs, on_probe=lambda d, n: calls.append((d, n))))
    assert len(calls) == 1 and calls[0][0].endswith("heart_rate.csv") and calls[0][1] == 1


def test_cli_writes_nothing_to_a_piped_stderr() -> None:
    proc = subprocess.run([sys.executable, "-m", "preflight", "check", "--no-probe", "examples/sorted_by_label.csv"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "PF201" in proc.stdout
    assert proc.stderr == ""


def _run_on_pty(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout piped); return (code, stdout, terminal text)."""
    code = ("import preflight.report.progress as p; p.Progress.DELAY = 0.0\n"
            "from preflight.cli import main\n"
            f"main({args!r})\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def test_cli_draws_progress_on_a_terminal_and_not_with_quiet() -> None:
    files = ["examples/heart_rate.csv", "examples/shuffled.csv"]
    rows = sum(len((ROOT / f).read_text(encoding="utf-8").splitlines()) - 1 for f in files)
    code, out, term = _run_on_pty(["check", "--no-probe", *files])
    assert code == 1 and "PF101" in out
    assert "preflight [" in term and "2/2 files" in term and f"{rows:,} rows" in term
    assert term.endswith("\r") and term.split("\r")[-2].strip() == ""  # the line is erased at the end
    code, out, term = _run_on_pty(["check", "--no-probe", "-q", "examples/heart_rate.csv"])
    assert code == 1 and "PF101" in out
    assert term == ""
