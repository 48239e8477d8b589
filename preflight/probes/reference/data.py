"""Reference data for each probe: deterministic, numpy only, one data set per rule or output kind.

``output_case(kind)`` is the reference data of the PF3xx output probes (no catalog example holds
data for them); its evidence is recorded in ``output-<kind>.json``. ``case(code)`` holds 4,000-row
sets on which the PF103/PF104 as-is runs fail (the tests use them); the PF1xx/PF2xx rules'
recorded evidence comes from their catalog bad examples. None of these sets was used to choose the probe's settings
(see ``preflight.probes.settings``).

    python -m preflight.probes.reference      # rewrite the recorded evidence
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preflight.checks.fixes import DropColumns, Impute

ROWS = 4000


def moons(n: int = ROWS, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (as sklearn's make_moons), labels 0/1, rows in random order."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    x0 = np.where(y == 0, np.cos(t), 1 - np.cos(t))
    x1 = np.where(y == 0, np.sin(t), 0.5 - np.sin(t))
    X = np.c_[x0, x1] + rng.normal(0, noise, (n, 2))
    return X, y.astype(np.float64)


def blobs(n: int = ROWS, d: int = 10, classes: int = 2, sep: float = 1.0, flip: float = 0.03,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian classes with random centres (as make_classification without redundant features)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = rng.normal(0, sep, (classes, d))
    X = centres[y] + rng.normal(0, 1.0, (n, d))
    flipped = rng.random(n) < flip
    y = np.where(flipped, rng.integers(0, classes, n), y)
    return X, y.astype(np.float64)


def case(code: str) -> dict[str, Any]:
    """``{"X", "y", "task", "features", "columns", "fix", "about"}`` for rule ``code``."""
    if code == "PF103":
        X, y = moons()
        X = np.c_[X, np.full(len(y), 1.0)]
        return dict(X=X, y=y, task="binary", features=("a", "b", "bias"), columns=("bias",),
                    fix=DropColumns(), about="two moons and a column that is always 1")
    if code == "PF104":
        X, y = moons()
        rng = np.random.default_rng(1)
        X = X.copy()
        X[rng.random(len(y)) < 0.01, 0] = np.nan
        X[rng.random(len(y)) < 0.005, 1] = np.inf
        return dict(X=X, y=y, task="binary", features=("a", "b"), columns=("a", "b"), fix=Impute("mean"),
                    about="two moons with 1% NaN in one column and 0.5% inf in the other")
    raise KeyError(code)


def output_case(kind: str) -> dict[str, Any]:
    """Reference data for an output kind: features in raw units (x1000), where logits saturate.

    On standardized features the user's activation + loss and the stable loss train alike (the
    probe says so: not reproduced); the difference is numerical and shows once logits are large,
    which unnormalized inputs make them.
    """
    if kind.startswith("sigmoid"):
        X, y = moons()
        flip = np.random.default_rng(2).random(len(y)) < 0.05
        y = np.where(flip, 1 - y, y)
        return dict(X=X * 1000.0, y=y, task="binary", about="two moons x1000, 5% of labels flipped")
    X, y = blobs(classes=3, sep=1.5)
    return dict(X=X * 1000.0, y=y, task="multiclass", about="three Gaussian classes in 10 features, x1000")
