"""Duplicate rows and conflicting labels, counted from row hashes in bounded memory.

Per batch the reader hashes each row's features (polars ``hash_rows``, native code) and derives the
hash of its features with its target from that and the target's own hash (one column, not the row
again). A row is kept while its feature hash falls in the kept ``1 / 2**level`` of the hash space;
past ``capacity`` kept rows the level rises and the rows outside the new range are dropped, which
leaves exactly the rows the new level would have kept. Identical rows have identical hashes, so a
group of duplicates is kept or dropped whole: the counts on the kept rows, scaled by ``2**level``,
estimate the table's (exact while ``level`` is 0, that is up to ``capacity`` rows).
Two partial results merge (``merge``), as every statistic in this package does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CAPACITY = 1 << 20  # kept rows (16 bytes each): exact counts up to a million rows


@dataclass(frozen=True)
class RowCounts:
    """What the duplicate rule reads."""

    rows: int  # rows hashed
    duplicates: int  # rows that repeat an earlier row exactly (features and target)
    conflicting: int  # rows in groups of identical features holding more than one target value
    exact: bool  # counted on every row (else estimated from a hash sample of 1 / scale of them)
    scale: int


@dataclass
class RowHashes:
    capacity: int = CAPACITY
    level: int = 0
    rows: int = 0
    features: list[np.ndarray] = field(default_factory=list)  # uint64 feature hashes of kept rows
    whole: list[np.ndarray] = field(default_factory=list)  # uint64 hashes of features and target
    _held: int = 0

    def _limit(self) -> np.uint64:
        return np.uint64((1 << (64 - self.level)) - 1) if self.level else np.uint64(2**64 - 1)

    def add(self, feature_hash: np.ndarray, whole_hash: np.ndarray) -> None:
        """Add one batch's hashes (uint64 arrays of the same length)."""
        self.rows += len(feature_hash)
        keep = feature_hash <= self._limit()
        self._append(feature_hash[keep], whole_hash[keep])

    def _append(self, f: np.ndarray, w: np.ndarray) -> None:
        if len(f):
            self.features.append(np.asarray(f, np.uint64))
            self.whole.append(np.asarray(w, np.uint64))
            self._held += len(f)
        while self._held > self.capacity:
            self.level += 1
            lim = self._limit()
            keep = [a <= lim for a in self.features]
            self.features = [a[k] for a, k in zip(self.features, keep)]
            self.whole = [a[k] for a, k in zip(self.whole, keep)]
            self._held = sum(len(a) for a in self.features)
        if len(self.features) > 64:
            self.features, self.whole = [np.concatenate(self.features)], [np.concatenate(self.whole)]

    def merge(self, other: RowHashes) -> RowHashes:
        out = RowHashes(capacity=min(self.capacity, other.capacity), level=max(self.level, other.level))
        out.rows = self.rows + other.rows
        lim = out._limit()
        for part in (self, other):
            for f, w in zip(part.features, part.whole):
                k = f <= lim
                out._append(f[k], w[k])
        return out

    def counts(self) -> RowCounts:
        scale = 1 << self.level
        if not self.features:
            return RowCounts(self.rows, 0, 0, self.level == 0, scale)
        f, w = np.concatenate(self.features), np.concatenate(self.whole)
        # one sort of the whole-row hashes: the distinct rows, and the feature hash of each (a whole row
        # determines its features; np.unique of (f, w) pairs on axis 0 sorted void records, 6x slower)
        order = np.argsort(w, kind="stable")
        ws = w[order]
        first = np.ones(len(ws), dtype=bool)
        np.not_equal(ws[1:], ws[:-1], out=first[1:])
        duplicates = len(w) - int(first.sum())
        feats = np.sort(f[order][first])  # one feature hash per distinct row
        conflicted = np.unique(feats[1:][feats[1:] == feats[:-1]])  # features with more than one target
        conflicting = int(np.isin(f, conflicted).sum()) if len(conflicted) else 0
        return RowCounts(self.rows, int(duplicates) * scale, conflicting * scale, self.level == 0, scale)
