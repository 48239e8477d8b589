"""Statistics of a whole table, accumulated batch by batch in one streamed pass."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from preflight.stats.moments import Moments
from preflight.stats.order import BlockRuns, ClassCounts, Runs, RunsTest, runs_test, spearman
from preflight.stats.rows import RowHashes
from preflight.stats.sample import OrderedSample
from preflight.stats.shards import ShardStats

FIRST_BAD_ROWS = 3


@dataclass
class TableStats:
    """What the rules read about a table.

    ``numeric`` names the columns ``moments`` describes (numeric features, and a numeric target);
    ``target_*`` describe the target column in row order; ``text_missing`` counts, per text column,
    its missing cells and its placeholder cells (blank, ``NA``, ``?``...); ``row_hashes`` the rows'
    hashes (duplicates, conflicting labels); ``within_runs`` the target's runs within the blocks of
    the time key named by its ``key`` (set when the table has time-named numeric columns);
    ``shards`` the target in each shard (``preflight.stats.shards``) when the pieces were named.
    """

    numeric: list[str]
    moments: Moments
    n_rows: int = 0
    first_bad: dict[str, list[int]] = field(default_factory=dict)
    target_missing: int = 0
    target_runs: Runs = field(default_factory=Runs)
    target_counts: ClassCounts = field(default_factory=ClassCounts)
    sample: OrderedSample = field(default_factory=OrderedSample)
    text_missing: dict[str, list[int]] = field(default_factory=dict)
    row_hashes: RowHashes = field(default_factory=RowHashes)
    within_runs: BlockRuns | None = None  # target runs within time-ordered blocks (a panel's entities)
    shards: ShardStats | None = None  # the target per shard, when the rows came from named shards
    origin: int = 0  # the table position of the first row these statistics describe
    layout: Any = None  # the ``preflight.stats.partition.Layout`` they were measured with
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def start(cls, numeric: list[str], sample_capacity: int = 8192) -> TableStats:
        return cls(numeric=list(numeric), moments=Moments.empty(len(numeric)),
                   sample=OrderedSample(sample_capacity))

    def has(self, name: str) -> bool:
        """Whether ``moments`` describes column ``name``. O(1), unlike ``name in numeric``."""
        return name in self._positions()

    def column(self, name: str) -> dict[str, Any]:
        """Moments of one column as plain floats. O(1): wide tables call this once per column."""
        i = self._positions()[name]
        m = self.moments
        n = int(m.n[i])
        std = math.sqrt(max(float(m.m2[i]), 0.0) / n) if n > 0 else math.nan
        return {"n": n, "missing": int(m.missing[i]), "nonfinite": int(m.nonfinite[i]),
                "mean": float(m.mean[i]), "std": std, "min": float(m.min[i]), "max": float(m.max[i])}

    def _positions(self) -> dict[str, int]:
        if len(self._index) != len(self.numeric):
            self._index = {n: i for i, n in enumerate(self.numeric)}
        return self._index

    def add_bad_rows(self, name: str, rows: np.ndarray) -> None:
        have = self.first_bad.setdefault(name, [])
        if len(have) < FIRST_BAD_ROWS:
            have.extend(int(r) for r in rows[: FIRST_BAD_ROWS - len(have)])

    def add_target(self, values: np.ndarray, missing: np.ndarray) -> None:
        """Feed the target column of the next batch (values in row order, ``missing`` mask)."""
        self.target_missing += int(missing.sum())
        present = values[~missing] if missing.any() else values
        self.target_runs = self.target_runs.merge(Runs.from_labels(present))
        self.target_counts.update(present)

    def add_text_missing(self, name: str, missing: int, placeholders: int, words: int) -> None:
        """Per text column: missing cells, placeholder cells, and cells that are neither nor a number."""
        have = self.text_missing.setdefault(name, [0, 0, 0])
        have[0] += missing
        have[1] += placeholders
        have[2] += words

    def merge(self, other: TableStats) -> TableStats:
        """The statistics of ``self``'s rows followed directly by ``other``'s (a new object; both are
        left as they were). ``other``'s row positions move to follow ``self``'s: they stay as they are
        when ``other.origin`` already says where it starts."""
        if self.numeric != other.numeric:
            raise ValueError("merging statistics of tables with different numeric columns")
        shift = self.origin + self.n_rows - other.origin
        out = TableStats(numeric=list(self.numeric), moments=self.moments.merge(other.moments),
                         n_rows=self.n_rows + other.n_rows, origin=self.origin, layout=self.layout or other.layout,
                         target_missing=self.target_missing + other.target_missing,
                         target_runs=self.target_runs.merge(other.target_runs),
                         target_counts=self.target_counts.merged(other.target_counts),
                         sample=self.sample.merged(other.sample, shift),
                         row_hashes=self.row_hashes.merge(other.row_hashes))
        for name in dict.fromkeys([*self.first_bad, *other.first_bad]):
            out.first_bad[name] = list(self.first_bad.get(name, []))
            out.add_bad_rows(name, np.asarray(other.first_bad.get(name, []), dtype=np.int64) + shift)
        for name in dict.fromkeys([*self.text_missing, *other.text_missing]):
            a, b = self.text_missing.get(name, [0, 0, 0]), other.text_missing.get(name, [0, 0, 0])
            out.text_missing[name] = [x + y for x, y in zip(a, b)]
        if self.shards is not None or other.shards is not None:
            out.shards = (self.shards or ShardStats()).merged(other.shards or ShardStats())
        # runs within a time key's blocks are not stitched across pieces: counted again on the sample
        one = self.within_runs if other.n_rows == 0 else other.within_runs if self.n_rows == 0 else None
        out.within_runs = copy.deepcopy(one)  # not shared: folding into an input must not change the merge
        return out

    def runs_test(self) -> RunsTest | None:
        counts = self.target_counts
        if counts.overflow or len(counts.counts) < 2:
            return None
        return runs_test(self.target_runs, list(counts.counts.values()))

    def order_correlation(self, y_sample: np.ndarray | None, rows: np.ndarray) -> float:
        """Spearman correlation between row position and target value, on the ordered sample."""
        if y_sample is None or len(y_sample) < 3:
            return 0.0
        ok = np.isfinite(y_sample)
        return spearman(rows[ok].astype(np.float64), y_sample[ok])
