"""Write the data examples of the rule catalog (rules/<CODE>-<name>/bad*.csv, good*.csv).

Deterministic: run it again and the files come out byte-identical (tests/test_catalog.py checks).

    python tools/make_catalog.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.make_examples import classification, heart_rate, write  # noqa: E402

RULES = ROOT / "rules"


def folder(code_name: str) -> Path:
    d = RULES / code_name
    d.mkdir(parents=True, exist_ok=True)
    return d


def standardized(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    X = rng.normal(0, 1, (n, d))
    return np.round((X - X.mean(0)) / X.std(0), 4)


def main() -> None:
    rng = np.random.default_rng(7)
    n = 600

    d = folder("PF101-unnormalized-feature")
    rate, label = heart_rate(n, seed=1)
    write(d / "bad.csv", ["heart_rate", "label"], [rate, label])
    z = np.round((rate - rate.mean()) / rate.std(), 4)
    write(d / "good.csv", ["heart_rate", "label"], [z, label])
    bits = rng.integers(0, 2, (n, 3))
    write(d / "good_binary.csv", ["smoker", "male", "insured", "label"], [*bits.T, label])
    angle = rng.uniform(0, 2 * np.pi, n)
    ring = rng.integers(0, 2, n)
    radius = np.where(ring == 1, 0.5, 1.0) + rng.normal(0, 0.08, n)
    write(d / "good_circles.csv", ["x1", "x2", "label"],
          [np.round(radius * np.cos(angle), 4), np.round(radius * np.sin(angle), 4), ring])

    d = folder("PF102-mixed-feature-scales")
    X = standardized(rng, 2000, 3)
    y = (X[:, 0] + X[:, 1] - X[:, 2] > 0).astype(int)
    write(d / "bad.csv", ["dose_mg", "reading", "ratio", "label"],
          [np.round(X[:, 0] * 4.0, 3), np.round(X[:, 1] * 0.5, 4), np.round(X[:, 2] * 0.004, 6), y])
    write(d / "good.csv", ["dose_mg", "reading", "ratio", "label"], [*X.T, y])

    d = folder("PF103-constant-feature")
    X = standardized(rng, n, 2)
    y = (X[:, 0] > 0).astype(int)
    write(d / "bad.csv", ["x1", "x2", "sensor_offset", "label"], [*X.T, np.zeros(n), y])
    write(d / "good.csv", ["x1", "x2", "label"], [*X.T, y])

    d = folder("PF104-non-finite-values")
    X = standardized(rng, n, 2)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    cells = [[_cell(v) for v in col] for col in X.T]
    for r in (3, 40, 41, 300):
        cells[1][r] = ""
    cells[0][120] = "nan"
    cells[0][450] = "inf"
    _write_cells(d / "bad.csv", ["x1", "x2", "label"], [*cells, [str(int(v)) for v in y]])
    write(d / "good.csv", ["x1", "x2", "label"], [*X.T, y])

    d = folder("PF201-label-sorted-rows")
    X, y = classification(5000, seed=42)  # the seed post's make_classification case
    names = [f"f{i}" for i in range(X.shape[1])] + ["label"]
    order = np.argsort(y, kind="stable")
    write(d / "bad.csv", names, [*X[order].T, y[order]])
    write(d / "good.csv", names, [*X.T, y])
    # time-ordered with labels that are not clustered: stays silent
    days = np.datetime64("2024-01-01") + np.arange(n)
    ts = standardized(rng, n, 2)
    up = (ts[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    _write_cells(d / "good_timeseries.csv", ["date", "volume", "momentum", "label"],
                 [[str(t) for t in days], *[[_cell(v) for v in col] for col in ts.T], [str(v) for v in up]])

    d = folder("PF202-target-sorted-rows")
    X = standardized(rng, 4000, 4)
    price = np.round(X @ np.array([0.8, -0.5, 0.3, 0.1]) + 0.3 * rng.normal(size=len(X)), 4)
    order = np.argsort(price, kind="stable")
    write(d / "bad.csv", ["x1", "x2", "x3", "x4", "target"], [*X[order].T, price[order]])
    write(d / "good.csv", ["x1", "x2", "x3", "x4", "target"], [*X.T, price])
    trend = np.round(np.linspace(-1.7, 1.7, n) + 0.2 * rng.normal(size=n), 4)
    _write_cells(d / "good_timeseries.csv", ["date", "x1", "x2", "target"],
                 [[str(t) for t in days], *[[_cell(v) for v in col] for col in X[:n, :2].T],
                  [_cell(v) for v in trend]])

    # PF105, with its own generator so that the rules above keep their bytes
    rng = np.random.default_rng(105)
    d = folder("PF105-id-like-column")
    X = standardized(rng, n, 3)
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + 0.5 * rng.normal(size=n) > 0).astype(int)
    names = ["age_z", "bp_z", "chol_z", "label"]
    write(d / "bad.csv", ["patient_id", *names], [np.arange(1001, 1001 + n), *X.T, y])
    write(d / "bad_saved_index.csv", ["Unnamed: 0", *names], [np.arange(n), *X.T, y])  # df.to_csv() kept the index
    # traps: a count (children, 0-5: repeats) and a unique float measurement stay silent
    children = rng.integers(0, 6, n)
    mass = np.round(rng.normal(0, 1, n), 6)
    write(d / "good.csv", ["children", "mass_z", *names], [children, mass, *X.T, y])
    value_rules(n)
    shard_rules()


def value_rules(n: int) -> None:
    """PF106-PF110, each with its own generator so that the rules above keep their bytes."""
    rng = np.random.default_rng(106)
    d = folder("PF106-category-codes-as-numbers")
    X = standardized(rng, n, 2)
    code = rng.integers(1, 41, n)  # 40 customer types, each with its own effect
    effect = rng.normal(0, 1.5, 41)
    y = (effect[code] + X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    write(d / "bad.csv", ["customer_type", "spend_z", "tenure_z", "label"], [code, *X.T, y])
    # traps: counts (children 0-5, mostly 0; rooms 1-8) are quantities; a balanced 3-class target
    children = np.minimum(rng.poisson(0.8, n), 5)
    rooms = rng.integers(1, 9, n)
    y3 = np.tile([0, 1, 2], n // 3)[rng.permutation(n)]
    write(d / "good.csv", ["children", "rooms", "spend_z", "tenure_z", "label"], [children, rooms, *X.T, y3])

    rng = np.random.default_rng(107)
    d = folder("PF107-suspected-target-leak")
    X = standardized(rng, n, 3)
    target = np.round(X @ np.array([0.6, -0.4, 0.3]) + 0.5 * rng.normal(size=n), 4)
    leak = np.round(np.tanh(target / 2), 4)  # a transform of the target: rank-identical
    write(d / "bad.csv", ["x1", "x2", "x3", "refund_ratio", "target"], [*X.T, leak, target])
    label = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    followup = np.round(label - 0.5 + 0.1 * rng.normal(size=n), 4)  # recorded after the outcome
    write(d / "bad_classification.csv", ["x1", "x2", "x3", "followup", "label"], [*X.T, followup, label])
    # traps: a strong but honest feature (rho ~0.9), a unique float measurement, a time series whose
    # features share the target's trend (correlated in level, not step by step)
    strong = np.round(target + 0.45 * rng.normal(size=n), 4)
    mass = np.round(rng.normal(0, 1, n), 6)
    write(d / "good.csv", ["x1", "x2", "strong", "mass_z", "target"], [X[:, 0], X[:, 1], strong, mass, target])
    days = np.datetime64("2024-01-01") + np.arange(n)
    trend = np.linspace(-1.7, 1.7, n)
    series = [np.round(trend + 0.05 * rng.normal(size=n), 4) for _ in range(3)]
    _write_cells(d / "good_timeseries.csv", ["date", "x1", "x2", "target"],
                 [[str(t) for t in days], *[[_cell(v) for v in col] for col in series]])

    rng = np.random.default_rng(108)
    d = folder("PF108-duplicate-rows")
    X = standardized(rng, n, 3)
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    copies, flips = rng.choice(n, 60, replace=False), rng.choice(n, 30, replace=False)
    Xb = np.vstack([X, X[copies], X[flips]])
    yb = np.concatenate([y, y[copies], 1 - y[flips]])
    order = rng.permutation(len(yb))
    write(d / "bad.csv", ["x1", "x2", "x3", "label"], [*Xb[order].T, yb[order]])
    # trap: a table of a few discrete columns repeats rows by nature
    discrete = [rng.integers(0, 2, n), rng.integers(0, 3, n), np.minimum(rng.poisson(0.8, n), 5)]
    yd = (discrete[0] + discrete[1] + rng.normal(size=n) > 1.5).astype(int)
    write(d / "good.csv", ["smoker", "stage", "children", "label"], [*discrete, yd])

    rng = np.random.default_rng(109)
    d = folder("PF109-missing-target")
    X = standardized(rng, n, 2)
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    cells = [str(v) for v in y]
    for i in rng.choice(n, 15, replace=False):
        cells[i] = ""
    _write_cells(d / "bad.csv", ["x1", "x2", "label"], [*[[_cell(v) for v in col] for col in X.T], cells])
    write(d / "good.csv", ["x1", "x2", "label"], [*X.T, y])

    rng = np.random.default_rng(110)
    d = folder("PF110-missing-text-values")
    X = standardized(rng, n, 2)
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    city = [str(c) for c in rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], n)]
    full = list(city)
    for i in rng.choice(n, 24, replace=False):
        city[i] = ""
    for i in rng.choice(n, 12, replace=False):
        city[i] = "NA"
    num = [_cell(v) for v in X[:, 1]]
    for i in rng.choice(n, 20, replace=False):
        num[i] = "NA"
    cols = [[_cell(v) for v in X[:, 0]], [str(v) for v in y]]
    _write_cells(d / "bad.csv", ["city", "x1", "label"], [city, *cols])
    _write_cells(d / "bad_numbers_as_text.csv", ["income_z", "x1", "label"], [num, *cols])
    _write_cells(d / "good.csv", ["city", "x1", "label"], [full, *cols])

    # PF111, with its own generator so that the rules above keep their bytes
    rng = np.random.default_rng(111)
    d = folder("PF111-imbalanced-classes")
    m = 3000
    X = standardized(rng, m, 4)
    score = X @ np.array([1.0, -0.8, 0.6, 0.0]) + 0.5 * rng.normal(size=m)
    rare = (score > np.quantile(score, 1 - 0.033)).astype(int)  # 3.3% positives, as ISLR's Default
    names = ["x1", "x2", "x3", "x4", "label"]
    write(d / "bad.csv", names, [*X.T, rare])
    # traps: a balanced three-class target and a 25%-positive one (ratio 0.33) stay silent
    three = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    write(d / "good.csv", names, [*X.T, three])
    quarter = (score > np.quantile(score, 0.75)).astype(int)
    write(d / "good_quarter.csv", names, [*X.T, quarter])

    # PF201 on panels, with its own generator so that the rules above keep their bytes: 20 firms, 60
    # rows each in quarter order; labels sorted within each firm fire, labels mixed within stay silent
    rng = np.random.default_rng(2011)
    d = folder("PF201-label-sorted-rows")
    firms, per = 20, 60
    firm = [f"F{e + 1:02d}" for e in range(firms) for _ in range(per)]
    quarter = np.tile(np.repeat(np.arange(1, 5), per // 4), firms)
    X = standardized(rng, firms * per, 2)
    p = 1 / (1 + np.exp(-(X[:, 0] - 0.5 * X[:, 1])))
    y = (rng.random(len(p)) < p).astype(int)
    y_sorted = np.concatenate([np.sort(y[e * per:(e + 1) * per]) for e in range(firms)])
    cols = [[str(q) for q in quarter], *[[_cell(v) for v in col] for col in X.T]]
    header = ["firm", "quarter", "x1", "x2", "label"]
    _write_cells(d / "bad_panel.csv", header, [firm, *cols, [str(v) for v in y_sorted]])
    _write_cells(d / "good_panel.csv", header, [firm, *cols, [str(v) for v in y]])


def shard_rules() -> None:
    """PF205: the PF201 and PF202 examples cut into shards of 1,000 rows, in order (a folder checked
    with --engine local). Sorted rows make shards of one class (one of them mixed, where the classes
    meet) or one band of the target; the shuffled rows make shards that each hold every class (or the
    whole range of the target)."""
    d = folder("PF205-label-sorted-shards")
    for name, source, per in (("bad_shards", "PF201-label-sorted-rows/bad.csv", 1000),
                              ("bad_shards_target", "PF202-target-sorted-rows/bad.csv", 1000),
                              ("good_shards", "PF201-label-sorted-rows/good.csv", 1000),
                              ("good_shards_target", "PF202-target-sorted-rows/good.csv", 1000)):
        lines = (RULES / source).read_text(encoding="utf-8").splitlines(keepends=True)
        out = d / name
        out.mkdir(exist_ok=True)
        for i, start in enumerate(range(1, len(lines), per)):
            (out / f"part-{i:05d}.csv").write_text(lines[0] + "".join(lines[start:start + per]), encoding="utf-8")


def _cell(v: float) -> str:
    return f"{float(v):.4f}".rstrip("0").rstrip(".")


def _write_cells(path: Path, header: list[str], columns: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        for row in zip(*columns):
            fh.write(",".join(row) + "\n")


if __name__ == "__main__":
    main()
