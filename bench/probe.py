"""Batched probe against the same training done model by model, and seconds per finding.

    python bench/probe.py

Prints, for a few data shapes: the batched fit (all seeds x both variants as one stacked model),
the same fits run one model at a time (same code, M=1, same initial weights and batches), their
ratio, the largest difference between the two runs' held-out losses, and the cost model's
prediction (``preflight.probes.run.predicted_seconds``) that the ``--probe-budget`` cut relies on.
Then the wall time of whole default probes (data prep, training, verdict) per finding, with and
without the one-off ``import torch``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from preflight.probes.data import batch_plan  # noqa: E402
from preflight.probes.run import predicted_seconds  # noqa: E402

SHAPES = [  # (train rows, test rows, features, batch, steps)
    (3072, 1024, 1, 64, 600),
    (3072, 1024, 20, 64, 600),
    (3072, 1024, 100, 64, 600),
    (3000, 1000, 10, 32, 564),
]


def main() -> None:
    t = time.perf_counter()
    from preflight.probes.train import fit
    print(f"import torch + trainer: {time.perf_counter() - t:.2f}s (once per process)")
    seeds = [0, 1, 2]
    rng = np.random.default_rng(0)
    fit(np.zeros((2, 64, 2), np.float32), np.zeros(64, np.float32), np.zeros((2, 8, 2), np.float32),
        np.zeros(8, np.float32), batch_plan(64, 8, 5, None, [0], ("shuffled", "shuffled")), [0, 1], [0, 0],
        ("bce_logits", "bce_logits"), "bce_logits", "binary", 1, 32, 1e-2)  # warm-up
    print(f"{'rows':>5} {'d':>4} {'batch':>5} {'steps':>5}  {'batched':>8} {'one by one':>10} {'ratio':>6} "
          f"{'max |diff|':>10} {'predicted':>9}")
    for n, nt, d, b, steps in SHAPES:
        X = rng.normal(0, 1, (n + nt, d)).astype(np.float32)
        y = (X[:, 0] + rng.normal(0, 0.5, n + nt) > 0).astype(np.float32)
        Xtr = np.stack([X[:n] * 12 + 90, X[:n]])
        Xte = np.stack([X[n:] * 12 + 90, X[n:]])
        plan = batch_plan(n, b, steps, None, seeds, ("shuffled", "shuffled"))
        variant = [0, 0, 0, 1, 1, 1]
        args = (y[:n], Xte, y[n:])
        t = time.perf_counter()
        together = fit(Xtr, *args, plan, variant, seeds + seeds, ("bce_logits",) * 2, "bce_logits", "binary", 1, 32,
                       1e-2)
        batched = time.perf_counter() - t
        t = time.perf_counter()
        finals = []
        for m in range(len(variant)):
            one = fit(Xtr, *args, plan[:, [m]], [variant[m]], [(seeds + seeds)[m]], ("bce_logits",) * 2,
                      "bce_logits", "binary", 1, 32, 1e-2)
            finals.append(one.final[0])
        single = time.perf_counter() - t
        diff = float(np.max(np.abs(np.asarray(finals) - together.final)))
        pred = predicted_seconds(steps, 6, b, d, 32, 1, nt)
        print(f"{n:5d} {d:4d} {b:5d} {steps:5d}  {batched:7.2f}s {single:9.2f}s {single / batched:5.1f}x "
              f"{diff:10.2e} {pred:8.2f}s")

    print("\nwhole default probes, one process per run (includes reading the CSV and the rules):")
    for args in (["examples/heart_rate.csv", "--rule", "PF101"], ["examples/sorted_by_label.csv", "--rule", "PF201"]):
        cmd = [sys.executable, "-c",
               "import time,sys; t=time.perf_counter(); import torch; i=time.perf_counter()-t; "
               "from preflight.cli import main; t=time.perf_counter(); "
               "sys.argv=['preflight','probe',*sys.argv[1:],'--no-cache','--format','json']; "
               "import contextlib,io\n"
               "buf=io.StringIO()\n"
               "with contextlib.redirect_stdout(buf):\n"
               "    try: main()\n"
               "    except SystemExit: pass\n"
               "import json; ev=json.loads(buf.getvalue()); "
               "print(f'{sys.argv[2]:>8} {sys.argv[4]}: import torch {i:.2f}s, "
               "probe {time.perf_counter()-t:.2f}s wall, "
               "training {ev[\"seconds\"]:.2f}s, {ev[\"verdict\"]}')", *args]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr.strip())


if __name__ == "__main__":
    main()
