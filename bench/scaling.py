"""How check time grows with input size: a linear checker doubles its time when the input doubles.

    python bench/scaling.py [--sizes 2500,5000,10000,20000] [--rows 50000,100000,200000] [--runs 3]

Replaces the single-point "stays linear" timings the tests used to assert (one size under a wall-clock
limit says nothing about the growth, and fails on a loaded machine). For each kind of input it prints
the best-of-``--runs`` time at each size and the ratio to the previous size: about 2.0 per doubling is
linear, about 4.0 is quadratic.

1. A training script of N three-line functions (the shape of tests/test_pysource.py's huge file),
   checked statically with ``check_paths``.
2. A CSV of N rows (two features and a label), checked with ``--no-probe`` semantics.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.config import Config  # noqa: E402
from preflight.engine import RunOptions, check_paths  # noqa: E402


def python_source(n: int) -> str:
    body = "".join(f"def f{i}(m, x, y):\n    out = m(x)\n    return crit(out, y)\n" for i in range(n))
    return "import torch, torch.nn as nn\ncrit = nn.BCELoss()\n" + body + "l = crit(torch.sigmoid(z), y)\n"


def csv_rows(n: int) -> str:
    return "a,b,label\n" + "".join(f"{90 + i % 20},{(i * 7) % 13 / 13},{i % 2}\n" for i in range(n))


def best_time(path: Path, runs: int) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        report = check_paths([path], Config(), RunOptions(probe=False))
        best = min(best, time.perf_counter() - started)
        found = len(report.findings)
    return best, found


def series(label: str, sizes: list[int], make, suffix: str, runs: int, tmp: Path) -> None:
    print(f"\n{label}")
    print(f"{'size':>10} {'seconds':>9} {'ratio':>7} {'findings':>9}")
    previous = None
    warm = tmp / f"warm{suffix}"
    warm.write_text(make(10), encoding="utf-8")
    best_time(warm, 1)  # imports (polars, the readers) are paid here, not by the first size
    for n in sizes:
        path = tmp / f"input_{n}{suffix}"
        path.write_text(make(n), encoding="utf-8")
        seconds, found = best_time(path, runs)
        ratio = f"{seconds / previous:7.2f}" if previous else f"{'':>7}"
        print(f"{n:>10} {seconds:9.3f} {ratio} {found:>9}")
        previous = seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2500,5000,10000,20000", help="functions per .py file")
    parser.add_argument("--rows", default="50000,100000,200000,400000", help="rows per CSV file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        series("static check of a .py file (N functions, 3N lines)", [int(s) for s in args.sizes.split(",")],
               python_source, ".py", args.runs, Path(tmp))
        series("CSV check, --no-probe (N rows)", [int(s) for s in args.rows.split(",")], csv_rows, ".csv",
               args.runs, Path(tmp))
    print("\nratio: time at this size over time at the previous (doubled sizes: ~2 linear, ~4 quadratic)")


if __name__ == "__main__":
    main()
