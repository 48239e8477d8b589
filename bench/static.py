"""Static checks against ruff on the same tree: the installed torch package's ``.py`` files, by default.

    python bench/static.py [TREE]

Runs ``preflight check --no-probe --exit-zero TREE`` and ``ruff check --no-cache --exit-zero TREE``
(ruff's default rules) once each, as subprocesses, and prints both wall times and their ratio (the
goal: at most 3x ruff). The machine's load moves both numbers; the ratio, taken back to back, less.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def torch_tree() -> str:
    out = subprocess.run([sys.executable, "-c", "import torch, os; print(os.path.dirname(torch.__file__))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done


def main() -> None:
    tree = sys.argv[1] if len(sys.argv) > 1 else torch_tree()
    files = sum(1 for _ in Path(tree).rglob("*.py"))
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t_pf, pf = timed([sys.executable, "-m", "preflight", "check", "--no-probe", "--exit-zero", tree], env)
    t_ruff, rf = timed([ruff, "check", "--no-cache", "--exit-zero", "--quiet", tree])
    found = next((line for line in pf.stdout.splitlines() if line.startswith(("Found", "No problems"))), "")
    print(f"tree: {tree} ({files} .py files, {os.cpu_count()} cores)")
    print(f"preflight check --no-probe: {t_pf:.2f} s (exit {pf.returncode}; {found})")
    print(f"ruff check:                 {t_ruff:.2f} s (exit {rf.returncode})")
    print(f"ratio: {t_pf / t_ruff:.2f}x ruff")


if __name__ == "__main__":
    main()
