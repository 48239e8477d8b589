"""Static checks against ruff on the same tree: the installed torch package's ``.py`` files, by default.

    python bench/static.py [TREE] [--pairs N]

Runs ``preflight check --no-probe --exit-zero TREE`` and then ``ruff check --no-cache --exit-zero
TREE`` (ruff's default rules), as subprocesses, back to back, ``N`` times (3 by default), and prints
each pair's wall times and ratio, then the median pair's (the goal: at most 3x ruff). The machine's
load moves both numbers, the ratio of a pair taken back to back less; the load average before and
after is printed with them (note it next to any number you quote).
"""

from __future__ import annotations

import os
import shutil
import statistics
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


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - no load average on this platform
        return "unknown"


def main() -> None:
    args = sys.argv[1:]
    pairs = 3
    if "--pairs" in args:
        i = args.index("--pairs")
        pairs = max(1, int(args[i + 1]))
        del args[i:i + 2]
    tree = args[0] if args else torch_tree()
    files = sum(1 for _ in Path(tree).rglob("*.py"))
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    print(f"tree: {tree} ({files} .py files, {os.cpu_count()} cores); load average before: {load()}")
    runs: list[tuple[float, float]] = []
    found = ""
    for k in range(pairs):
        t_pf, pf = timed([sys.executable, "-m", "preflight", "check", "--no-probe", "--exit-zero", tree], env)
        t_ruff, rf = timed([ruff, "check", "--no-cache", "--exit-zero", "--quiet", tree])
        found = next((line for line in pf.stdout.splitlines() if line.startswith(("Found", "No problems"))), "")
        print(f"pair {k + 1}: preflight {t_pf:.2f} s (exit {pf.returncode}), ruff {t_ruff:.2f} s "
              f"(exit {rf.returncode}): {t_pf / t_ruff:.2f}x")
        runs.append((t_pf, t_ruff))
    ratio = statistics.median(p / r for p, r in runs)
    t_pf, t_ruff = min(runs, key=lambda pr: abs(pr[0] / pr[1] - ratio))
    print(f"preflight check --no-probe: {t_pf:.2f} s ({found})")
    print(f"ruff check:                 {t_ruff:.2f} s")
    print(f"ratio: {ratio:.2f}x ruff (median of {pairs} pairs; load average after: {load()})")


if __name__ == "__main__":
    main()
