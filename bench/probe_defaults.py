"""How the probe's defaults (lr, steps, hidden, margin) were chosen: on sklearn toy sets, never on
the examples the probes are judged on (heart rate, the catalog's bad examples).

For each standardized toy set it trains the probe's model with candidate (lr, steps) settings and
prints the held-out loss (mean over 3 seeds) and the seed-to-seed spread (max/min - 1).

    python bench/probe_defaults.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.datasets import make_circles, make_classification, make_moons, make_regression

from preflight.checks.fixes import finite_mean_std
from preflight.probes.data import batch_plan, split
from preflight.probes.train import fit

SETS = {
    "moons": lambda: (*make_moons(4000, noise=0.2, random_state=1), "binary", 1),
    "circles": lambda: (*make_circles(4000, noise=0.1, factor=0.5, random_state=1), "binary", 1),
    "classif3": lambda: (*make_classification(4000, n_features=20, n_informative=6, n_classes=3, random_state=1),
                         "multiclass", 3),
    "regression": lambda: (*make_regression(4000, n_features=10, noise=10, random_state=1), "regression", 1),
}
CANDIDATES = [(1e-3, 600), (3e-3, 600), (1e-2, 600), (3e-2, 600), (1e-2, 300), (1e-3, 5000)]


def main() -> None:
    seeds = [0, 1, 2]
    for name, make in SETS.items():
        X, y, task, out = make()
        tr, te = split(len(y))
        mean, std = finite_mean_std(X[tr])
        Xs = (X - mean) / std
        yt = y.astype(np.float64)
        if task == "regression":
            yt = (yt - yt[tr].mean()) / yt[tr].std()
        loss = {"binary": "bce_logits", "multiclass": "ce_logits", "regression": "mse"}[task]
        Xtr = np.stack([Xs[tr]] * 2).astype(np.float32)
        Xte = np.stack([Xs[te]] * 2).astype(np.float32)
        for lr, steps in CANDIDATES:
            plan = batch_plan(len(tr), 64, steps, None, seeds, ("shuffled", "shuffled"))
            t = time.perf_counter()
            r = fit(Xtr, yt[tr].astype(np.float32), Xte, yt[te].astype(np.float32), plan, [0, 0, 0, 1, 1, 1],
                    seeds + seeds, (loss, loss), loss, task, out, 32, lr)
            f = r.final[:3]
            print(f"{name:10s} lr {lr:<6g} steps {steps:5d}: held-out {f.mean():.4f}  spread "
                  f"{f.max() / f.min() - 1:5.1%}  score {r.score[:3].mean():.3f}  {time.perf_counter() - t:.2f}s")


if __name__ == "__main__":
    main()
