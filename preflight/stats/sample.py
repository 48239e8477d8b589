"""A bounded, order-keeping row sample whose rate halves as the file grows.

Row ``i`` is kept while ``hash(i)`` is divisible by ``step`` (a power of two); when more than
``capacity`` rows are held, ``step`` doubles and the rows whose hash is not divisible by the new
step are dropped, which leaves exactly the rows the new step would have kept. Memory stays below
``capacity`` rows whatever the file's length; the result is deterministic and in file order, which
order rules and their probes need. Hashing the row number (splitmix64) rather than keeping every
k-th row means a file whose labels alternate with a period that divides k is not aliased into a
sample of one class.

Each kept row remembers its hash, so two samples merge (``merged``): the second's rows move to follow
the first's and both are narrowed to the larger step, which keeps what one pass over both would have
kept when the second was taken at its true position (and one common rate otherwise).
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
        self._keys: list[np.ndarray] = []  # row_hash of each kept row's position when it was kept
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
        keep = [(h & np.uint64(step - 1)) == 0 for h in self._keys]
        self._rows = [r[k] for r, k in zip(self._rows, keep)]
        self._keys = [h[k] for h, k in zip(self._keys, keep)]
        self._blocks = [b[k] for b, k in zip(self._blocks, keep)]
        self._held = sum(len(r) for r in self._rows)

    def add(self, rows: np.ndarray, block: np.ndarray) -> None:
        """Add kept rows (file positions ``rows``, values ``block`` of shape (len(rows), d))."""
        if len(rows) == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        self._append(rows, row_hash(rows), np.asarray(block))

    def _append(self, rows: np.ndarray, keys: np.ndarray, block: np.ndarray) -> None:
        keep = (keys & np.uint64(self.step - 1)) == 0
        if not keep.all():
            rows, keys, block = rows[keep], keys[keep], block[keep]
        if len(rows):
            self._rows.append(rows)
            self._keys.append(keys)
            self._blocks.append(block)
            self._held += len(rows)
        while self._held > self.capacity:  # rows added without take()
            self._narrow(self.step * 2)
        if len(self._rows) > 64:  # keep the lists short
            self._rows, self._keys = [np.concatenate(self._rows)], [np.concatenate(self._keys)]
            self._blocks = [np.concatenate(self._blocks)]

    def merged(self, other: OrderedSample, shift: int = 0) -> OrderedSample:
        """This sample followed by ``other``'s, its row positions moved by ``shift``; a new sample."""
        out = OrderedSample(min(self.capacity, other.capacity))
        out.step = max(self.step, other.step)
        for part, by in ((self, 0), (other, shift)):
            for r, h, b in zip(part._rows, part._keys, part._blocks):
                out._append(r + by, h, b)
        return out

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        if not self._rows:
            return np.zeros(0, dtype=np.int64), None
        return np.concatenate(self._rows), np.concatenate(self._blocks)
