"""Calibrating PF111's threshold: on every classification table of ``tables.py``, the class-weighted
loss against the plain one in a default user training (``user.py``'s ``adam`` setup, 3 seeds, judged
on held-out balanced accuracy), next to the table's smallest/largest class ratio.

    PYTHONPATH=/work/calib/site:$PWD python bench/agreement/imbalance.py

Choose the threshold on the calibration half (``tables.calibration``); the other half is the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import tables as T  # noqa: E402
from user import user_runs  # noqa: E402


def main() -> None:
    rows = []
    for name, df, target, task in T.tables():
        if task != "c":
            continue
        counts = df[target].value_counts()
        ratio = counts.min() / counts.max()
        r = user_runs(df, target, task, "PF111", [], setups=("adam",))["runs"]["adam"]
        a = np.array([x["balanced_accuracy"][-1] for x in r["as_is"]])
        f = np.array([x["balanced_accuracy"][-1] for x in r["fixed"]])
        rows.append((ratio, name, a, f))
        print(f"{name:28s} ratio {ratio:.3f} cal={T.calibration(name)!s:5s} balanced acc plain {a.mean():.3f} "
              f"weighted {f.mean():.3f} gain {np.round(f - a, 3)} all seeds +0.01: {bool((f - a >= 0.01).all())}",
              flush=True)


if __name__ == "__main__":
    main()
