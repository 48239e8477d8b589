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

from preflight.stats.timeorder import key_steps


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


def runs_moments(counts: Sequence[int]) -> tuple[float, float]:
    """Mean and variance of the number of runs in a random order of a sequence with these class
    counts (Barton and David 1957); (1, 0) for fewer than two items."""
    n = float(sum(counts))
    if n < 2:
        return 1.0 if n else 0.0, 0.0
    c = np.asarray(counts, dtype=np.float64)
    s2 = float((c * c).sum())
    s3 = float((c * c * c).sum())
    expected = 1.0 + (n * n - s2) / n
    var = (s2 * (s2 + n * (n + 1)) - 2 * n * s3 - n**3) / (n * n * (n - 1))
    return expected, max(var, 0.0)


def runs_test(runs: Runs, counts: Sequence[int]) -> RunsTest:
    """Runs test for k categories (Barton and David 1957), with the class counts of the sequence."""
    n = float(sum(counts))
    if n < 2:
        return RunsTest(runs.runs, float(runs.runs), 0.0, 1.0, 1.0)
    expected, var = runs_moments(counts)
    z = (runs.runs - expected) / math.sqrt(var) if var > 0 else 0.0
    return RunsTest(runs.runs, expected, z, runs.runs / expected if expected else 1.0,
                    runs.longest / n)


@dataclass
class BlockRuns:
    """Runs of equal labels counted within blocks (a panel's entities), for one runs test combined
    over the blocks: observed runs, their expected number and variance are summed block by block
    (each block's own class counts), so a label constant within each entity gives as many runs as a
    random order within it (no evidence), and labels sorted within each entity give far fewer.

    Fed chunk by chunk in row order (``update``) with each row's time key (the time columns,
    coarsest first); a block ends where the key decreases, as in ``preflight.stats.timeorder``.
    Memory: the sums of the closed blocks, and the open block's ``Runs`` and class counts.
    """

    key: tuple[str, ...] = ()
    blocks: int = 0  # closed blocks
    runs: int = 0
    expected: float = 0.0
    var: float = 0.0
    n: int = 0
    longest: int = 0
    cap: int = 256
    overflow: bool = False
    _open: Runs = field(default_factory=Runs)
    _counts: Counter = field(default_factory=Counter)
    _last: np.ndarray | None = None
    _block: int = 0  # boundaries seen so far
    _open_id: int = -1  # the block id of the open block's rows

    def update(self, labels: np.ndarray, keys: np.ndarray, missing: np.ndarray | None = None) -> None:
        """Feed the next chunk: ``labels`` (row order), ``keys`` of shape (rows, len(key)), and the
        rows whose label is missing (they are skipped, a boundary at one of them still counts)."""
        m = len(labels)
        if m == 0 or self.overflow:
            return
        K = np.asarray(keys, dtype=np.float64).reshape(m, -1)
        head = K[:1] if self._last is None else self._last[None, :]
        down = key_steps(np.vstack([head, K])) < 0
        block = self._block + np.cumsum(down)
        self._last, self._block = K[-1].copy(), int(block[-1])
        y = np.asarray(labels)
        if missing is not None and missing.any():
            y, block = y[~missing], block[~missing]
        if len(y) == 0:
            return
        cuts = np.flatnonzero(np.diff(block) != 0) + 1
        first = int(cuts[0]) if len(cuts) else len(y)
        if self._open.n and block[0] != self._open_id:
            self._close()
        self._open_id = int(block[0])
        self._add(y[:first])  # the rows that continue (or start) the open block
        if not len(cuts):
            return
        self._close()
        last = int(cuts[-1])
        if last > first:
            self._add_closed(y[first:last], block[first:last])  # whole blocks inside the chunk, at once
        self._open_id = int(block[last])
        self._add(y[last:])

    def _add_closed(self, y: np.ndarray, block: np.ndarray) -> None:
        """Blocks that start and end inside one chunk, in a few array operations (a table with a
        time-named column in random order has a block every two or three rows)."""
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) > self.cap:
            self.overflow = True
            return
        seg = np.concatenate(([0], np.cumsum(np.diff(block) != 0)))
        brk = np.concatenate(([True], (codes[1:] != codes[:-1]) | (seg[1:] != seg[:-1])))
        starts = np.flatnonzero(brk)
        lengths = np.diff(np.concatenate((starts, [len(y)])))
        pair, cnt = np.unique(seg * len(classes) + codes, return_counts=True)
        owner, c = pair // len(classes), cnt.astype(np.float64)
        n = np.bincount(owner, weights=c)
        s2 = np.bincount(owner, weights=c * c)
        s3 = np.bincount(owner, weights=c * c * c)
        expected = 1.0 + (n * n - s2) / n
        safe = np.maximum(n, 2.0)
        var = np.where(n >= 2, (s2 * (s2 + n * (n + 1)) - 2 * n * s3 - n**3) / (safe * safe * (safe - 1)), 0.0)
        self.blocks += len(n)
        self.runs += len(starts)
        self.expected += float(expected.sum())
        self.var += float(np.maximum(var, 0.0).sum())
        self.n += len(y)
        self.longest = max(self.longest, int(lengths.max()))

    def _add(self, y: np.ndarray) -> None:
        self._open = self._open.merge(Runs.from_labels(y))
        uniq, cnt = np.unique(y, return_counts=True)
        for u, k in zip(uniq.tolist(), cnt.tolist()):
            self._counts[u] += k
        if len(self._counts) > self.cap:
            self.overflow = True

    def _close(self) -> None:
        expected, var = runs_moments(list(self._counts.values()))
        self.blocks += 1
        self.runs += self._open.runs
        self.expected += expected
        self.var += var
        self.n += self._open.n
        self.longest = max(self.longest, self._open.longest)
        self._open, self._counts = Runs(), Counter()

    def test(self) -> RunsTest | None:
        """The combined runs test over every block, after the last ``update`` (it closes the open
        block); None when given up (too many classes) or fewer than two labelled rows."""
        if self.overflow:
            return None
        if self._open.n:
            self._close()
        if self.n < 2:
            return None
        z = (self.runs - self.expected) / math.sqrt(self.var) if self.var > 0 else 0.0
        ratio = self.runs / self.expected if self.expected else 1.0
        return RunsTest(self.runs, self.expected, z, ratio, self.longest / self.n)


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

    def merged(self, other: ClassCounts) -> ClassCounts:
        out = ClassCounts(cap=min(self.cap, other.cap), overflow=self.overflow or other.overflow)
        if not out.overflow:
            out.counts = self.counts + other.counts
            if len(out.counts) > out.cap:
                out.overflow = True
                out.counts.clear()
        return out


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
