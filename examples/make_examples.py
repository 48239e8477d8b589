"""Regenerate the example data files from the seed posts' cases (deterministic).

    python examples/make_examples.py

heart_rate.csv         one feature, heart rate (mean ~92, std ~12); label = rate above 91 (PF101)
heart_rate_scaled.csv  the same rows, standardized: stays silent
sorted_by_label.csv    make_classification rows (5,000 x 20, random_state=42) sorted by label (PF201)
shuffled.csv           the same rows in make_classification's own random order: stays silent
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def heart_rate(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rate = np.round(rng.normal(92.0, 12.0, n), 1)
    return rate, (rate > 91).astype(int)


def classification(n: int = 5000, seed: int = 42, n_features: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's make_classification, as in the seed post (n_features=20, random_state=42)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=n_features, random_state=seed)
    return np.round(X, 4), y


def write(path: Path, header: list[str], columns: list[np.ndarray]) -> None:
    rows = zip(*columns)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        for row in rows:
            fh.write(",".join(_cell(v) for v in row) + "\n")


def _cell(v: object) -> str:
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return f"{float(v):.4f}".rstrip("0").rstrip(".")


def main() -> None:
    rate, label = heart_rate()
    write(HERE / "heart_rate.csv", ["heart_rate", "label"], [rate, label])
    z = (rate - rate.mean()) / rate.std()
    write(HERE / "heart_rate_scaled.csv", ["heart_rate", "label"], [np.round(z, 4), label])
    X, y = classification()
    names = [f"f{i}" for i in range(X.shape[1])] + ["label"]
    order = np.argsort(y, kind="stable")
    write(HERE / "sorted_by_label.csv", names, [*X[order].T, y[order]])
    write(HERE / "shuffled.csv", names, [*X.T, y])


if __name__ == "__main__":
    main()
