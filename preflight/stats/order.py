"""Order statistics of a label sequence in row order, mergeable across consecutive chunks.

``Runs`` counts maximal runs of equal labels. Compared with the number a random order gives
(Wald-Wolfowitz runs test, generalised to k classes by Barton and David), far fewer runs means the
labels are clustered in row order, so consecutive mini-batches see one class.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Runs:
    n: int = 0
    runs: int = 0
    first: Hashable = None
    last: Hashable = None
    prefix: int = 0  # length of the run the chunk starts with
    suffix: int = 0  # length of the run the chunk ends with
    longest: int = 0

    @classmethod
    def from_labels(cls, labels: Sequence[Any] | np.ndarray) -> Runs:
        y = np.asarray(labels)
        n = len(y)
        if n == 0:
            return cls()
        change = np.flatnonzero(y[1:] != y[:-1]) + 1  # starts of runs after the first
        starts = np.concatenate(([0], change))
        lengths = np.diff(np.concatenate((starts, [n])))
        return cls(n=n, runs=len(starts), first=_py(y[0]), last=_py(y[-1]), prefix=int(lengths[0]),
                   suffix=int(lengths[-1]), longest=int(lengths.max()))

    def merge(self, other: Runs) -> Runs:
        """Runs of ``self`` followed directly by ``other``."""
        if self.n == 0:
            return other
        if other.n == 0:
            return self
        joined = self.last == other.first
        bridge = self.suffix + other.prefix if joined else 0
        prefix = self.prefix + other.prefix if joined and self.runs == 1 else self.prefix
        suffix = other.suffix + self.suffix if joined and other.runs == 1 else other.suffix
        return Runs(n=self.n + other.n, runs=self.runs + other.runs - int(joined), first=self.first,
                    last=other.last, prefix=prefix, suffix=suffix,
                    longest=max(self.longest, other.longest, bridge))


@dataclass(frozen=True)
class RunsTest:
    runs: int
    expected: float
    z: float  # negative: fewer runs than random, labels clustered
    ratio: float  # runs / expected
    longest_fraction: float


def runs_test(runs: Runs, counts: Sequence[int]) -> RunsTest:
    """Runs test for k categories (Barton and David 1957), with the class counts of the sequence."""
    n = float(sum(counts))
    c = np.asarray(counts, dtype=np.float64)
    s2 = float((c * c).sum())
    s3 = float((c * c * c).sum())
    if n < 2:
        return RunsTest(runs.runs, float(runs.runs), 0.0, 1.0, 1.0)
    expected = 1.0 + (n * n - s2) / n
    var = (s2 * (s2 + n * (n + 1)) - 2 * n * s3 - n**3) / (n * n * (n - 1))
    z = (runs.runs - expected) / math.sqrt(var) if var > 0 else 0.0
    return RunsTest(runs.runs, expected, z, runs.runs / expected if expected else 1.0,
                    runs.longest / n)


@dataclass
class ClassCounts:
    """Counts of target values, given up (``overflow``) past ``cap`` distinct values."""

    cap: int = 256
    counts: Counter = field(default_factory=Counter)
    overflow: bool = False

    def update(self, values: np.ndarray) -> None:
        if self.overflow:
            return
        uniq, cnt = np.unique(values, return_counts=True)
        for u, k in zip(uniq.tolist(), cnt.tolist()):
            self.counts[u] += k
        if len(self.counts) > self.cap:
            self.overflow = True
            self.counts.clear()


def rankdata(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (as scipy.stats.rankdata)."""
    a = np.asarray(a)
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    boundaries = np.concatenate(([True], s[1:] != s[:-1], [True]))
    idx = np.flatnonzero(boundaries)
    avg = (idx[:-1] + idx[1:] + 1) / 2.0  # average of 1-based ranks idx[i]+1 .. idx[i+1]
    ranks = np.empty(len(a))
    ranks[order] = np.repeat(avg, np.diff(idx))
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation; 0.0 when either side is constant."""
    if len(x) < 3:
        return 0.0
    rx, ry = rankdata(x), rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
