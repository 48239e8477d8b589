"""A bounded, order-keeping row sample whose rate halves as the file grows.

Row ``i`` is kept while ``hash(i)`` is divisible by ``step`` (a power of two); when more than
``capacity`` rows are held, ``step`` doubles and the rows whose hash is not divisible by the new
step are dropped, which leaves exactly the rows the new step would have kept. Memory stays below
``capacity`` rows whatever the file's length; the result is deterministic and in file order, which
order rules and their probes need. Hashing the row number (splitmix64) rather than keeping every
k-th row means a file whose labels alternate with a period that divides k is not aliased into a
sample of one class.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def row_hash(rows: np.ndarray) -> np.ndarray:
    """splitmix64 of the row numbers: a fixed, well-mixed 64-bit hash."""
    z = rows.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


class OrderedSample:
    def __init__(self, capacity: int = 8192) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.step = 1
        self._rows: list[np.ndarray] = []
        self._blocks: list[np.ndarray] = []
        self._held = 0

    def take(self, offset: int, n: int) -> np.ndarray:
        """Positions within a chunk of ``n`` rows starting at file row ``offset`` that are kept.

        The step is raised here, before the caller builds the rows' values, as far as ``add`` would raise
        it after them (the smallest power of two that keeps at most ``capacity`` of every row seen, so
        the sample is the same): a first batch of 100,000 rows is not copied whole to keep 8,192 of it."""
        pos = np.arange(n, dtype=np.int64)
        hashes = row_hash(pos + offset)
        kept = pos if self.step == 1 else pos[(hashes & np.uint64(self.step - 1)) == 0]
        while self._held + len(kept) > self.capacity:
            self._narrow(self.step * 2)
            kept = pos[(hashes & np.uint64(self.step - 1)) == 0]
        return kept

    def _narrow(self, step: int) -> None:
        """Keep the rows held that step ``step`` keeps."""
        self.step = step
        keep = [self._kept(r) for r in self._rows]
        self._rows = [r[k] for r, k in zip(self._rows, keep)]
        self._blocks = [b[k] for b, k in zip(self._blocks, keep)]
        self._held = sum(len(r) for r in self._rows)

    def _kept(self, rows: np.ndarray) -> np.ndarray:
        return (row_hash(rows) & np.uint64(self.step - 1)) == 0

    def add(self, rows: np.ndarray, block: np.ndarray) -> None:
        """Add kept rows (file positions ``rows``, values ``block`` of shape (len(rows), d))."""
        if len(rows) == 0:
            return
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self._blocks.append(np.asarray(block))
        self._held += len(rows)
        while self._held > self.capacity:  # rows added without take()
            self._narrow(self.step * 2)
        if len(self._rows) > 64:  # keep the lists short
            self._rows = [np.concatenate(self._rows)]
            self._blocks = [np.concatenate(self._blocks)]

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        if not self._rows:
            return np.zeros(0, dtype=np.int64), None
        return np.concatenate(self._rows), np.concatenate(self._blocks)
