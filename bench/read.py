"""Read speed and memory: `preflight check --no-probe` against a bare polars streaming scan.

    python bench/read.py                 # about 1 GB: 5,000,000 rows x 20 floats + a sorted 0/1 label
    python bench/read.py --rows 500000   # smaller
    python bench/read.py --csv my.csv    # an existing file

The bare scan computes only count/mean/std/min/max of every column, as one streaming `select`.
Each side runs in a fresh process; peak memory is that process's maximum resident set size.
Goal (issue 16): preflight within 1.1x of the bare scan's time, peak memory under 400 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BARE = """
import sys, polars as pl
lf = pl.scan_csv(sys.argv[1])
cols = lf.collect_schema().names()
exprs = []
for c in cols:
    e = pl.col(c)
    exprs += [e.count().alias(c + "_n"), e.mean().alias(c + "_mean"), e.std().alias(c + "_std"),
              e.min().alias(c + "_min"), e.max().alias(c + "_max")]
lf.select(exprs).collect(engine="streaming")
"""


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 4, 20)
    label = np.sort(rng.integers(0, 2, rows))
    chunk = 500_000
    with open(path, "w") as fh:
        fh.write(",".join([f"f{i}" for i in range(20)] + ["label"]) + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            X = rng.normal(size=(n, 20)) * scales + scales
            block = np.column_stack([X, label[start:start + n]])
            np.savetxt(fh, block, delimiter=",", fmt=["%.7g"] * 20 + ["%d"])


def measure(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}): {err.strip()}")
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--csv", type=Path, help="use this file instead of generating one")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each side; the best is kept")
    args = ap.parse_args()

    tmp = None
    path = args.csv
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.csv"
        t = time.perf_counter()
        # in a child process: a child's peak RSS starts from its parent's at the fork, so generating the
        # rows here would lift both measurements below by the generator's memory
        subprocess.run([sys.executable, "-c", f"from read import make_csv; from pathlib import Path; "
                        f"make_csv(Path({str(path)!r}), {args.rows})"], cwd=Path(__file__).parent, check=True)
        print(f"wrote {path.stat().st_size / 1e9:.2f} GB ({args.rows:,} rows) in {time.perf_counter() - t:.1f} s")
    size = path.stat().st_size / 1e9

    bare = [sys.executable, "-c", BARE, str(path)]
    pre = [sys.executable, "-m", "preflight", "check", "--no-probe", "--format", "json", str(path)]
    results = {}
    for name, argv in (("polars scan", bare), ("preflight", pre)):
        runs = [measure(argv) for _ in range(args.repeat)]
        results[name] = (min(r[0] for r in runs), max(r[1] for r in runs))
    b_t, b_m = results["polars scan"]
    p_t, p_m = results["preflight"]
    print(f"file: {size:.2f} GB, {os.cpu_count()} cores")
    print(f"{'':14}{'seconds':>10}{'peak MB':>10}")
    print(f"{'polars scan':14}{b_t:10.2f}{b_m:10.0f}")
    print(f"{'preflight':14}{p_t:10.2f}{p_m:10.0f}")
    print(f"time ratio (preflight / bare scan): {p_t / b_t:.2f}x   (goal <= 1.1x)")
    print(f"memory ratio: {p_m / b_m:.2f}x   peak {p_m:.0f} MB   (goal < 400 MB)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
