"""The target in each shard of a sharded table: what PF205 (label-sorted shards) reads.

A shard is a file of a folder or prefix of shards (``preflight check DIR --engine ...``), or, for a
Spark DataFrame or Ray Dataset that was not read from files, a partition or block. Per shard: its
rows, its label counts (up to ``MAX_LABELS`` distinct labels; past that the shard is "many labels")
and the moments of a numeric target. Mergeable and order-free: pieces of one shard (a file that
Spark splits over partitions) are summed by name, so the result does not depend on how an engine
cut or ordered the shards. At most ``MAX_SHARDS`` shards are recorded; the rows of any further
shards are counted as unrecorded.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_SHARDS = 4096
MAX_LABELS = 64


@dataclass
class Shard:
    n: int = 0
    labels: Counter | None = field(default_factory=Counter)  # None: more than MAX_LABELS distinct labels
    count: int = 0  # finite numeric target values
    mean: float = 0.0
    m2: float = 0.0

    def add_labels(self, values: np.ndarray) -> None:
        self.n += len(values)
        if self.labels is not None:
            uniq, counts = np.unique(values, return_counts=True)
            self.labels.update({_py(u): int(c) for u, c in zip(uniq, counts)})
            if len(self.labels) > MAX_LABELS:
                self.labels = None
        if values.dtype.kind in "biuf":
            x = values.astype(np.float64)
            x = x[np.isfinite(x)]
            if len(x):
                self._add_moments(len(x), float(x.mean()), float(((x - x.mean()) ** 2).sum()))

    def _add_moments(self, n: int, mean: float, m2: float) -> None:
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total

    def merged(self, other: Shard) -> Shard:
        out = Shard(n=self.n + other.n, count=self.count, mean=self.mean, m2=self.m2)
        if self.labels is None or other.labels is None:
            out.labels = None
        else:
            out.labels = Counter(self.labels)
            out.labels.update(other.labels)
            if len(out.labels) > MAX_LABELS:
                out.labels = None
        if other.count:
            out._add_moments(other.count, other.mean, other.m2)
        return out


@dataclass
class ShardStats:
    """Per-shard target summaries, keyed by shard name, in the order first seen."""

    shards: dict[str, Shard] = field(default_factory=dict)
    unrecorded_rows: int = 0  # rows of shards past MAX_SHARDS

    def add(self, name: str, labels: np.ndarray) -> None:
        """Feed the target values (present ones, row order) of the next rows of shard ``name``."""
        shard = self.shards.get(name)
        if shard is None:
            if len(self.shards) >= MAX_SHARDS:
                self.unrecorded_rows += len(labels)
                return
            shard = self.shards[name] = Shard()
        shard.add_labels(np.asarray(labels))

    def merged(self, other: ShardStats) -> ShardStats:
        """``self``'s shards and ``other``'s (a new object sharing nothing with either)."""
        out = ShardStats(shards={k: s.merged(Shard()) for k, s in self.shards.items()},
                         unrecorded_rows=self.unrecorded_rows + other.unrecorded_rows)
        for name, shard in other.shards.items():
            have = out.shards.get(name)
            if have is not None:
                out.shards[name] = have.merged(shard)
            elif len(out.shards) < MAX_SHARDS:
                out.shards[name] = shard.merged(Shard())
            else:
                out.unrecorded_rows += shard.n
        return out


# --- what PF205 measures --------------------------------------------------------------------

@dataclass(frozen=True)
class LabelPurity:
    """How far each shard is from holding a random draw of the table's classes."""

    shards: int  # shards with rows
    sorted_shards: tuple[tuple[str, Any, int, float], ...]  # (name, its class, rows, share), by name
    sorted_rows: int
    rows: int
    median_rows: float
    classes: int  # distinct classes that are some sorted shard's class
    table_share: float  # the largest class's share of the whole table


def label_purity(stats: ShardStats, excess: float = 0.8, min_rows: int = 1, z: float = 5.0) -> LabelPurity | None:
    """Shards of ``min_rows`` rows or more whose majority class is far over its share of the table:
    ``(share - p) / (1 - p) >= excess`` and ``share >= p + z * sqrt(p (1 - p) / n)`` (p the class's
    share of the whole table, n the shard's rows), so chance cannot make a small shard of an imbalanced
    table "sorted". None when the shards' labels are not countable (a shard with more than
    ``MAX_LABELS`` labels) or fewer than two shards have rows."""
    shards = {k: s for k, s in stats.shards.items() if s.n}
    if len(shards) < 2 or any(s.labels is None for s in shards.values()):
        return None
    table: Counter = Counter()
    for s in shards.values():
        table.update(s.labels or {})
    rows = sum(table.values())
    if rows == 0 or len(table) < 2:
        return None
    found = []
    for name, s in shards.items():
        labels = s.labels or Counter()
        label, count = max(labels.items(), key=lambda kv: (kv[1], str(kv[0])))
        share, p, n = count / s.n, table[label] / rows, s.n
        if n >= min_rows and p < 1 and (share - p) / (1 - p) >= excess and share >= p + z * math.sqrt(p * (1 - p) / n):
            found.append((name, label, n, share))
    found.sort(key=lambda t: t[0])
    return LabelPurity(shards=len(shards), sorted_shards=tuple(found), sorted_rows=sum(t[2] for t in found),
                       rows=sum(s.n for s in shards.values()),
                       median_rows=float(np.median([s.n for s in shards.values()])),
                       classes=len({t[1] for t in found}), table_share=max(table.values()) / rows)


@dataclass(frozen=True)
class TargetBands:
    """How much of a numeric target's variance lies between shards rather than within them."""

    shards: int
    within: float  # within-shard sum of squares / total sum of squares (1: shards are random draws)
    median_rows: float
    bands: tuple[tuple[str, float, float], ...]  # (name, mean, std) of each shard, by name


def target_bands(stats: ShardStats) -> TargetBands | None:
    shards = {k: s for k, s in stats.shards.items() if s.count > 1}
    if len(shards) < 2:
        return None
    n = sum(s.count for s in shards.values())
    mean = sum(s.mean * s.count for s in shards.values()) / n
    within = sum(s.m2 for s in shards.values())
    total = within + sum(s.count * (s.mean - mean) ** 2 for s in shards.values())
    if total <= 0:
        return None
    return TargetBands(shards=len(shards), within=within / total,
                       median_rows=float(np.median([s.n for s in shards.values()])),
                       bands=tuple(sorted((k, s.mean, math.sqrt(s.m2 / s.count)) for k, s in shards.items())))


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
