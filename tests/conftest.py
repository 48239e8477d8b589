from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
UPDATE = bool(os.environ.get("PREFLIGHT_UPDATE_GOLDEN"))

# No per-example deadline: a property test checks values, not time (speed goals live in bench/), and on
# a loaded CI machine hypothesis' default 200 ms deadline fails correct code (DeadlineExceeded, Flaky).
settings.register_profile("preflight", deadline=None)
settings.load_profile("preflight")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def transcript(self, args: list[str]) -> str:
        return (f"$ preflight {' '.join(args)}\nexit: {self.code}\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


def run_cli(args: list[str], cwd: Path | None = None) -> Result:
    """Run the real entry point in-process (exit code, stdout and stderr as a user sees them)."""
    from preflight.cli import main

    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with runner.isolation() as (out, err, _):
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        return Result(code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        os.chdir(old)


def check_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; PREFLIGHT_UPDATE_GOLDEN=1 rewrites it. A missing golden fails: writing
    it and passing would make a new test pass whatever its output."""
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; rerun with PREFLIGHT_UPDATE_GOLDEN=1 to write it, "
                    "read it, and commit it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} drifted; rerun with PREFLIGHT_UPDATE_GOLDEN=1 if the change is intended"


@pytest.fixture
def cli():
    return run_cli
