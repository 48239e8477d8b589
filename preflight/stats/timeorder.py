"""Time-ordered tables recognised from integer time columns: a series, or a panel (an entity's rows
in time order, one entity after another).

A column is a time column by its whole name (``year``, ``quarter``, ``month``, ``week``, ``day``,
``time``, ``period``, ``t``, any case) and integer values. The table is time-ordered when, in file
order (the ordered sample), the time key (the time columns, coarsest first: year, then quarter ...)
never decreases, or decreases only at block boundaries with at least ``MIN_BLOCK_ROWS`` rows a block
on average and at least ``MIN_PANEL_BLOCKS`` blocks (a panel; a random order decreases every second
or third row; two to four blocks are a table sorted by time within a few groups). A panel's entity is the
numeric column that changes value at every such boundary and seldom elsewhere, when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

UNITS = {"year": 0, "yr": 0, "years": 0, "quarter": 1, "qtr": 1, "month": 2, "months": 2, "mon": 2,
         "week": 3, "wk": 3, "day": 4, "days": 4, "time": 5, "period": 5, "t": 5}
MIN_BLOCK_ROWS = 4
MIN_PANEL_BLOCKS = 5  # fewer blocks read as a table sorted by time within a few groups, not a panel
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class TimeOrder:
    column: str  # the coarsest time column
    columns: tuple[str, ...]  # every time column of the key, coarsest first
    blocks: int  # 1: one series; more: a panel of this many time-ordered blocks (in the sample)
    entity: str | None = None  # the panel's entity column, when a numeric one marks the blocks

    def describe(self) -> str:
        key = " and ".join(repr(c) for c in self.columns)
        if self.blocks <= 1:
            return f"time-ordered by {key}"
        who = f"entity {self.entity!r}" if self.entity else f"{self.blocks} blocks"
        return f"a panel: time-ordered by {key} within each {who}" if self.entity else \
            f"a panel: time-ordered by {key} within {who}"


def time_unit(name: str) -> int | None:
    return UNITS.get(_EDGE.sub("", name.strip()).lower())


def _integral(v: np.ndarray) -> bool:
    ok = np.isfinite(v)
    return bool(ok.all() and len(v) and np.all(v == np.round(v)))


def key_steps(T: np.ndarray) -> np.ndarray:
    """Sign of each adjacent step of the lexicographic key (rows of ``T``): -1, 0 or 1 (NaN: 0). Where it
    is -1 a block ends; ``preflight.stats.order.BlockRuns`` cuts its blocks with it too."""
    d = np.nan_to_num(np.sign(np.diff(T, axis=0)), nan=0.0)
    if d.shape[1] == 0:
        return np.zeros(len(d))
    first = np.argmax(d != 0, axis=1)
    return d[np.arange(len(d)), first]


def time_order(names: tuple[str, ...], X: np.ndarray) -> TimeOrder | None:
    """The time order of the sampled rows ``X`` (columns ``names``, file order), or None."""
    cols = sorted((u, j) for j, n in enumerate(names) if (u := time_unit(n)) is not None and _integral(X[:, j]))
    if not cols or len(X) < 2 * MIN_BLOCK_ROWS:
        return None
    idx = [j for _, j in cols]
    steps = key_steps(X[:, idx])
    if not (steps > 0).any():
        return None  # constant time: nothing is ordered
    down = np.flatnonzero(steps < 0)
    blocks = len(down) + 1
    if len(X) / blocks < MIN_BLOCK_ROWS or 1 < blocks < MIN_PANEL_BLOCKS:
        return None
    key = tuple(names[j] for j in idx)
    return TimeOrder(key[0], key, blocks, _entity(names, X, down, set(idx)) if len(down) else None)


def _entity(names: tuple[str, ...], X: np.ndarray, down: np.ndarray, skip: set[int]) -> str | None:
    best: tuple[int, str] | None = None
    for j, name in enumerate(names):
        if j in skip:
            continue
        changes = np.flatnonzero(np.diff(X[:, j]) != 0)
        if len(changes) == 0 or not np.isin(down, changes).all() or len(changes) > 2 * (len(down) + 1):
            continue
        if best is None or len(changes) < best[0]:
            best = (len(changes), name)
    return None if best is None else best[1]
