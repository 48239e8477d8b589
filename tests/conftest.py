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


@pytest.fixture(autouse=True)
def _no_colour_from_the_environment(monkeypatch):
    """A CI runner's FORCE_COLOR or NO_COLOR would change the text transcripts: tests set them themselves."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def cli():
    return run_cli


def copy_checkout(dest: Path) -> Path:
    """The working tree's files as git sees them (tracked, and untracked but not ignored) copied to ``dest``:
    the files as they are, without build outputs, caches or virtual environments."""
    import shutil
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links not followed): an environment's size on disk."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def venv_bin(env: Path, name: str) -> Path:
    """A program of the virtual environment ``env`` (``python``, ``pip``, ``preflight``)."""
    return env / "Scripts" / f"{name}.exe" if os.name == "nt" else env / "bin" / name


def finds_torch(env: Path) -> bool:
    """Whether ``env``'s Python finds a torch to import (asked without importing it)."""
    import subprocess

    code = "import importlib.util; print(importlib.util.find_spec('torch') is not None)"
    out = subprocess.run([str(venv_bin(env, "python")), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``-m "not slow"`` (the quick set), a module marked slow as a whole is not even imported:
    its tests would all be deselected, and importing test_lightning alone costs 2 s of Lightning."""
    if config.getoption("markexpr", "") != "not slow" or collection_path.suffix != ".py":
        return None
    text = collection_path.read_text(encoding="utf-8") if collection_path.name.startswith("test_") else ""
    return True if "\npytestmark = pytest.mark.slow" in text else None
