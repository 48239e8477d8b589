"""Subjects: what the checks read. An input adapter turns a file or a live object into one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from preflight.stats.table import TableStats

Task = Literal["binary", "multiclass", "regression"]
ColumnKind = Literal["numeric", "binary", "categorical", "text", "datetime", "empty"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    dtype: str


@dataclass(frozen=True)
class TableSample:
    """A bounded, order-preserving sample of rows (every k-th row of the file).

    ``X`` holds the numeric feature columns as float64 (NaN where missing or non-numeric),
    ``y`` the target (float64 class codes or values) or None, ``rows`` the 0-based file row of
    each sampled row. Row order is file order, so order rules can be probed on it.
    """

    features: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray | None
    rows: np.ndarray
    classes: tuple[Any, ...] = ()


@dataclass
class TableSubject:
    """A table: a data file, a DataFrame, an array. Statistics were computed in one streamed pass."""

    path: str | None
    display: str
    columns: list[Column]
    stats: TableStats
    target: str | None = None
    target_reason: str = ""
    task: Task | None = None
    time_column: str | None = None
    sample: TableSample | None = None
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[Column]:
        """Numeric and binary feature columns (never the target)."""
        return [c for c in self.columns if c.name != self.target and c.kind in ("numeric", "binary")]

    @property
    def n_rows(self) -> int:
        return self.stats.n_rows

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, list[str]] = {}
        for c in self.columns:
            kinds.setdefault(c.kind, []).append(c.name)
        return {
            "path": self.display,
            "rows": self.n_rows,
            "columns": len(self.columns),
            "target": self.target,
            "target_reason": self.target_reason,
            "task": self.task,
            "time_column": self.time_column,
            "column_kinds": kinds,
            "notes": list(self.notes),
        }
