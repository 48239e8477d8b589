"""A bounded, order-keeping row sample: every k-th row, with k doubling as the file grows.

Rows whose 0-based position is a multiple of ``k`` are kept; when more than ``capacity`` are
held, ``k`` doubles and every other kept row is dropped. Memory stays below ``capacity`` rows
whatever the file's length, the result is deterministic, and the kept rows stay in file order
at an even spacing, which is what order rules and their probes need.
"""

from __future__ import annotations

import numpy as np


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
        """Positions within a chunk of ``n`` rows starting at file row ``offset`` that are kept now."""
        first = (-offset) % self.step
        return np.arange(first, n, self.step, dtype=np.int64)

    def add(self, rows: np.ndarray, block: np.ndarray) -> None:
        """Add kept rows (file positions ``rows``, values ``block`` of shape (len(rows), d))."""
        if len(rows) == 0:
            return
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self._blocks.append(np.asarray(block))
        self._held += len(rows)
        while self._held > self.capacity:
            self.step *= 2
            keep = [r % self.step == 0 for r in self._rows]
            self._rows = [r[k] for r, k in zip(self._rows, keep)]
            self._blocks = [b[k] for b, k in zip(self._blocks, keep)]
            self._held = sum(len(r) for r in self._rows)
        if len(self._rows) > 64:  # keep the lists short
            self._rows = [np.concatenate(self._rows)]
            self._blocks = [np.concatenate(self._blocks)]

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        if not self._rows:
            return np.zeros(0, dtype=np.int64), None
        return np.concatenate(self._rows), np.concatenate(self._blocks)
