"""How long `preflight check` takes where users meet it: a pre-commit hook on a small file.

    python bench/startup.py [--runs 15] [--file examples/heart_rate.csv]

1. `preflight check small.csv --no-probe`, a fresh process each time: wall time against a bare
   `python -c pass`, and whether torch was imported (it must not be).
2. The probe cache: when the reference probe is present (findings come back with probe evidence),
   `preflight check small.csv` twice against an empty cache directory: the first run trains, the
   second, on the unchanged file, should cost no training. When the probe is not present it says so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
from preflight.cli import main
try:
    main({args!r})
except SystemExit:
    pass
sys.stderr.write("\\n@@torch=%s" % ("torch" in sys.modules))
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:6.0f} ms, min {min(times) * 1000:6.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--file", default="examples/heart_rate.csv")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    bare = [timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.runs)]
    runs, torch_seen = [], set()
    check_args = ["check", "--no-probe", "--format", "text", args.file]
    for _ in range(args.runs):
        t, proc = timed([sys.executable, "-c", CHECK.format(args=check_args)], env)
        runs.append(t)
        torch_seen.add(proc.stderr.rsplit("@@torch=", 1)[-1].strip())
    cli = [timed([sys.executable, "-m", "preflight", *check_args], env)[0] for _ in range(args.runs)]
    print(f"preflight startup on {args.file} ({args.runs} runs each, {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"  python -c pass                          {summary(bare)}")
    print(f"  python -m preflight check --no-probe    {summary(cli)}")
    print(f"  same, in-process entry point            {summary(runs)}   "
          f"torch imported: {', '.join(sorted(torch_seen))}")
    own_ms = (statistics.median(cli) - statistics.median(bare)) * 1000
    print(f"  preflight's own cost (median - python)  {own_ms:6.0f} ms")

    with tempfile.TemporaryDirectory() as cache:
        probe_env = {**env, "PREFLIGHT_CACHE_DIR": cache}
        first, proc = timed([sys.executable, "-m", "preflight", "check", "--format", "json", args.file], probe_env)
        try:
            findings = json.loads(proc.stdout)["findings"]
        except (ValueError, KeyError):
            print(f"  probe: could not read the JSON report (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
            return
        probed = [f for f in findings if f.get("probe")]
        if not probed:
            print("  probe cache: not measured, the reference probe is not present on this branch "
                  "(no finding came back with probe evidence)")
            return
        second, proc2 = timed([sys.executable, "-m", "preflight", "check", "--format", "json", args.file], probe_env)
        cached = [f.get("probe", {}).get("cached") for f in json.loads(proc2.stdout)["findings"] if f.get("probe")]
        print(f"  probe, empty cache (trains)             {first * 1000:6.0f} ms")
        print(f"  probe, unchanged file (cache)           {second * 1000:6.0f} ms   cached: {cached}")


if __name__ == "__main__":
    main()
