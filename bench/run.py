"""Every speed goal in one run, one table of ratios: where the project stands.

    python bench/run.py              # the full set (a 1 GB CSV and its Parquet, the torch package, 1,000 CSVs)
    python bench/run.py --quick      # the same rows at a tenth of the sizes (a smoke run; not the goals' numbers)

Each row runs fresh processes back to back on this machine, so the ratios are what counts (the load
average is printed before and after). Times are medians of ``--runs`` runs for the small file, the
best of ``--repeat`` for the large ones (the least disturbed), a median of pairs for the static
checks. Peak memory is the process's maximum resident set size.

| row | compared | goal |
|---|---|---|
| small file, no probe | `preflight check examples/heart_rate.csv --no-probe` against `python -c pass` | keep |
| probe, first run | the same with the probe, an empty cache each run, against the `--no-probe` run | <= 2x |
| probe, cached | the same again on a warm cache, against the `--no-probe` run | <= 1.3x |
| 1 GB CSV | `preflight check --no-probe` against a bare polars streaming scan (`bench/read.py`) | <= 1.1x, 400 MB |
| the same as Parquet | against the same bare scan of the Parquet file | stated |
| torch's `.py` files | `preflight check --no-probe` against `ruff check` (`bench/static.py`'s pairs) | <= 3x |
| 1,000 small CSVs | a folder of N files in one process, at N/2 and N; the cost per file beyond the first | linear |
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from read import BARE, measure  # noqa: E402
from static import load, timed, torch_tree  # noqa: E402

BARE_PARQUET = BARE.replace("pl.scan_csv(", "pl.scan_parquet(")
MAKE = """
import sys
from pathlib import Path
import polars as pl
from read import make_csv
make_csv(Path(sys.argv[1]), int(sys.argv[3]))
pl.scan_csv(sys.argv[1]).sink_parquet(sys.argv[2])
"""
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
PREFLIGHT = [sys.executable, "-m", "preflight", "check"]


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    """``static.timed``'s seconds, for a command that must not have failed (a failure times nothing)."""
    seconds, proc = timed(argv, env or ENV)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[2:6])} failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    return seconds


def small_file(runs: int) -> list[tuple[str, str, str, str]]:
    """The pre-commit case: one small CSV, without the probe, with a first-run probe, with a cached one."""
    path = str(ROOT / "examples" / "heart_rate.csv")
    bare = statistics.median(wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    no_probe = statistics.median(wall([*PREFLIGHT, "--no-probe", path]) for _ in range(runs))
    first, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**ENV, "PREFLIGHT_CACHE_DIR": cache}
            first.append(wall([*PREFLIGHT, path], env))
            cached.append(wall([*PREFLIGHT, path], env))
    f, c = statistics.median(first), statistics.median(cached)
    return [
        ("examples/heart_rate.csv --no-probe",
         f"{no_probe:.2f} s ({no_probe / bare:.1f}x `python -c pass`, {bare:.2f} s)", "keep", ""),
        ("the same, probe first run (no cache)", f"{f:.2f} s", "<= 2x the --no-probe run", f"{f / no_probe:.2f}x"),
        ("the same, probe served from the cache", f"{c:.2f} s", "<= 1.3x the --no-probe run", f"{c / no_probe:.2f}x"),
    ]


def large_file(rows: int, repeat: int, folder: Path) -> list[tuple[str, str, str, str]]:
    """The 1 GB CSV (rows x 20 floats and a sorted 0/1 label) and the same rows as Parquet."""
    csv, parquet = folder / "big.csv", folder / "big.parquet"
    # written by a child process: a child's peak RSS starts from its parent's at the fork, so a parent
    # that held the generated rows would lift every measurement after it
    subprocess.run([sys.executable, "-c", MAKE, str(csv), str(parquet), str(rows)], cwd=HERE, check=True)
    out = []
    for name, path, bare_code in (("CSV", csv, BARE), ("Parquet", parquet, BARE_PARQUET)):
        bare = [measure([sys.executable, "-c", bare_code, str(path)]) for _ in range(repeat)]
        ours = [measure([*PREFLIGHT, "--no-probe", "--format", "json", str(path)]) for _ in range(repeat)]
        b_t, b_m = min(r[0] for r in bare), max(r[1] for r in bare)
        p_t, p_m = min(r[0] for r in ours), max(r[1] for r in ours)
        size = path.stat().st_size / 1e9
        goal = "<= 1.1x, <= 400 MB" if name == "CSV" else "stated"
        out.append((f"{size:.2f} GB {name} ({rows:,} rows x 21), --no-probe",
                    f"{p_t:.2f} s, {p_m:.0f} MB (scan {b_t:.2f} s, {b_m:.0f} MB)", goal,
                    f"{p_t / b_t:.2f}x, {p_m / b_m:.2f}x memory"))
    return out


def static(pairs: int) -> list[tuple[str, str, str, str]]:
    tree = torch_tree()
    files = sum(1 for _ in Path(tree).rglob("*.py"))
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    runs = [(wall([*PREFLIGHT, "--no-probe", "--exit-zero", tree]),
             wall([ruff, "check", "--no-cache", "--exit-zero", "--quiet", tree])) for _ in range(pairs)]
    ratio = statistics.median(p / r for p, r in runs)
    p, r = min(runs, key=lambda pr: abs(pr[0] / pr[1] - ratio))
    return [(f"{files:,} .py files of the torch package, --no-probe", f"{p:.2f} s (ruff {r:.2f} s)",
             "<= 3x ruff", f"{ratio:.2f}x")]


def many_files(n: int, folder: Path) -> list[tuple[str, str, str, str]]:
    """A folder of ``n`` small CSVs (200 rows x 3 features and a label, shuffled), checked at n/2 and n
    files by one process each: linear growth means the second costs about twice the first beyond the
    process's own start (the one-file run)."""
    import numpy as np

    rng = np.random.default_rng(0)
    for size in (1, n // 2, n):
        d = folder / f"files{size}"
        d.mkdir()
        for i in range(size):
            X = rng.normal(0, 1, (200, 3))
            y = (X[:, 0] + rng.normal(0, 0.5, 200) > 0).astype(int)
            np.savetxt(d / f"part{i:04d}.csv", np.c_[X, y], delimiter=",", header="a,b,c,label", comments="",
                       fmt=["%.5f"] * 3 + ["%d"])
    t = {size: min(wall([*PREFLIGHT, "--no-probe", "--exit-zero", str(folder / f"files{size}")]) for _ in range(2))
         for size in (1, n // 2, n)}
    per_file = (t[n] - t[1]) / (n - 1)
    growth = (t[n] - t[1]) / max(1e-9, t[n // 2] - t[1])
    return [(f"a folder of {n:,} small CSVs, --no-probe", f"{t[n]:.2f} s ({t[n // 2]:.2f} s for {n // 2:,}, "
             f"{t[1]:.2f} s for 1)", "linear, no per-file start-up",
             f"{per_file * 1000:.1f} ms per file; {growth:.2f}x from {n // 2:,} to {n:,} (2.00 is linear)")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes: a smoke run")
    ap.add_argument("--runs", type=int, default=5, help="runs of the small file [default: 5]")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each large-file side [default: 2]")
    ap.add_argument("--pairs", type=int, default=3, help="static pairs [default: 3]")
    ap.add_argument("--skip", default="", help="comma-separated rows to leave out: small,large,static,files")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows, files = (500_000, 100) if args.quick else (5_000_000, 1000)
    print(f"bench/run.py: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average before: {load()}")
    table: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "small" not in skip:
            table += small_file(args.runs)
        if "large" not in skip:
            table += large_file(rows, args.repeat, Path(tmp))
        if "static" not in skip:
            table += static(args.pairs)
        if "files" not in skip:
            table += many_files(files, Path(tmp))
    header = ("what", "measured", "goal", "ratio")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
