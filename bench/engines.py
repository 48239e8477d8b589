"""Local, Ray and Spark on one sharded Parquet dataset: time and peak driver memory, from one run.

    python bench/engines.py                      # 20 shards, 5M rows x 20 floats + a label sorted across shards
    python bench/engines.py --rows 500000        # a smoke run

Needs the extras: pip install -e '.[spark,ray]' (and Java for Spark). Each engine runs in a fresh
process that checks the whole folder with ``--no-probe``; it prints its wall time and its own peak
resident memory (the Python driver's: Spark's JVM and Ray's workers are other processes, whose memory
is the cluster's, not the driver's). The dataset is written at two sizes, ``--rows`` and half of it,
so the table shows whether driver memory grows with rows (it should not: the driver holds the merged
statistics and one partition's).

- local: ``preflight check DIR --engine local`` (the shards read in this process, one table);
- ray: ``preflight check DIR --engine ray`` (a local Ray on this machine's cores);
- spark: ``preflight check DIR --engine spark --master local[N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = r"""
import json, resource, sys, time
from preflight.cli import main
t = time.perf_counter()
try:
    address = [] if sys.argv[2] == "local" else ["--address", sys.argv[3]]
    main(["check", sys.argv[1], "--engine", sys.argv[2], *address, "--no-probe",
          "--target", "label", "--format", "json", "--output", sys.argv[4]])
except SystemExit:
    pass
report = json.load(open(sys.argv[4]))
print(json.dumps({"seconds": time.perf_counter() - t, "codes": sorted(f["code"] for f in report["findings"]),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write(folder: Path, rows: int, shards: int, cols: int) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    per = rows // shards
    folder.mkdir(parents=True)
    for i in range(shards):
        label = np.full(per, i * 2 // shards)  # sorted across shards: the first half class 0
        data = {f"f{j}": rng.normal(50 if j == 0 else 0, 10 if j == 0 else 1, per) for j in range(cols)}
        pl.DataFrame({**data, "label": label}).write_parquet(folder / f"part-{i:05d}.parquet")


def run(engine: str, folder: Path, cores: int, out: Path) -> dict:
    address = f"local[{cores}]" if engine == "spark" else "local"
    cmd = [sys.executable, "-c", CLI, str(folder), engine, address, str(out)]
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, RAY_DEDUP_LOGS="0")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    last = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not last:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(last[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--shards", type=int, default=20)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--engines", default="local,ray,spark")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.shards} shards, {args.cols} floats + label")
    print("| engine | rows | seconds | peak driver MB | findings |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (args.rows // 2, args.rows):
            folder = Path(tmp) / f"rows{rows}"
            started = time.perf_counter()
            write(folder, rows, args.shards, args.cols)
            print(f"<!-- wrote {rows:,} rows in {time.perf_counter() - started:.1f} s -->", file=sys.stderr)
            for engine in args.engines.split(","):
                r = run(engine, folder, args.cores, Path(tmp) / f"{engine}.json")
                print(f"| {engine} | {rows:,} | {r['seconds']:.1f} | {r['rss_mb']:.0f} | {' '.join(r['codes'])} |",
                      flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
