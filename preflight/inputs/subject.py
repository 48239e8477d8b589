"""Subjects: what the checks read. An input adapter turns a file or a live object into one.

Every subject is a ``Subject``: it names itself (``display``, ``path``), describes what was read
(``summary()``, a typed dict the report writes as JSON) and lists its inline suppression comments
(``suppressions()``: line -> codes). The engine reads a subject only through these; the rules read
the concrete type they declare (``Rule.subject``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

import numpy as np

from preflight.stats.table import TableStats

Task = Literal["binary", "multiclass", "regression"]
ColumnKind = Literal["numeric", "binary", "categorical", "text", "datetime", "empty"]


# line -> the codes ``# preflight: ignore[...]`` names on it (None: a bare ignore, every code)
Suppressions = Mapping[int, "frozenset[str] | None"]


class TableSummary(TypedDict):
    path: str
    rows: int
    columns: int
    target: str | None
    target_reason: str
    task: str | None
    time_column: str | None
    column_kinds: dict[str, list[str]]
    notes: list[str]


class CodeSummary(TypedDict):
    path: str
    kind: Literal["python"]
    lines: int
    notes: list[str]


class SetupSummary(TypedDict):
    path: str
    kind: Literal["setup"]
    description: str
    notes: list[str]


Summary = TableSummary | CodeSummary | SetupSummary


@runtime_checkable
class Subject(Protocol):
    """What the engine needs of any input: its names, its summary, its suppression comments."""

    @property
    def display(self) -> str: ...

    @property
    def path(self) -> str | None: ...

    def summary(self) -> Summary: ...

    def suppressions(self) -> Suppressions: ...


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
    time_order: Any = None  # preflight.stats.timeorder.TimeOrder, for integer time columns (a series, a panel)
    # values derived from the subject by pure functions, computed once (the columns PF105/PF106 take, by default)
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
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

    def suppressions(self) -> Suppressions:
        return {}  # a data file has no comments

    def summary(self) -> TableSummary:
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


@dataclass
class CodeSubject:
    """A Python source file, parsed with ``ast`` and never imported or run.

    ``flow`` holds what ``preflight.analysis`` measured (loss pairs, DataLoader calls);
    ``ignores`` the ``# preflight: ignore[...]`` comments by line (``None``: every code).
    """

    path: str | None
    display: str
    source: str
    tree: Any
    lines: list[str]
    ignores: dict[int, frozenset[str] | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    flow: Any = None

    def analyse(self) -> None:
        from preflight.analysis import analyse

        try:
            self.flow = analyse(self.tree)
        except RecursionError:
            self.flow = None
            self.notes.append("nested too deeply to follow its values; the setup rules (PF203, PF3xx) were skipped")

    def column(self, line: int, col_offset: int) -> int:
        """1-based character column of an ``ast`` offset (which counts UTF-8 bytes)."""
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:col_offset].decode("utf-8", errors="replace")) + 1
        return col_offset + 1

    def suppressions(self) -> Suppressions:
        return self.ignores

    def summary(self) -> CodeSummary:
        return {"path": self.display, "kind": "python", "lines": len(self.lines), "notes": list(self.notes)}


@dataclass
class LoaderFacts:
    """What was read from a live DataLoader (or Dataset) without training on it."""

    sampler: str  # "RandomSampler", "SequentialSampler", "DistributedSampler(shuffle=False)", ...
    shuffled: bool | None  # None: a custom sampler, or an IterableDataset (order decided by the dataset)
    batches_read: int = 0
    batch_size: int | None = None
    batch_labels: list[np.ndarray] | None = None  # class labels of each batch read, in order
    population: dict[Any, int] | None = None  # class counts of the whole dataset (or a random sample)
    population_source: str = ""
    label_note: str = ""  # why labels could not be found


@dataclass
class ModelFacts:
    """A model's output activation, from its module tree and one forward pass under ``no_grad``."""

    name: str
    activation: str | None = None  # sigmoid / softmax / log_softmax
    evidence: str = ""  # how the activation was found
    width: int | None = None  # output units (size of dim 1, or 1 for a (N,) output)
    forward_ok: bool = False


@dataclass
class SetupSubject:
    """Live training objects: a DataLoader or Dataset, a model, a loss. Built by
    ``preflight.inputs.torch_objects``; the only subjects whose construction imports torch."""

    display: str
    loader: LoaderFacts | None = None
    model: ModelFacts | None = None
    loss: str | None = None  # bce / bce_logits / ce / nll / other
    loss_name: str | None = None
    notes: list[str] = field(default_factory=list)
    path: str | None = None

    def suppressions(self) -> Suppressions:
        return {}  # live objects have no comments

    def summary(self) -> SetupSummary:
        parts = []
        if self.loader is not None:
            parts.append(f"sampler {self.loader.sampler}, {self.loader.batches_read} batch(es) read")
        if self.model is not None:
            act = self.model.activation or "no output activation found"
            parts.append(f"model {self.model.name} ({act}{'; ' + self.model.evidence if self.model.evidence else ''})")
        if self.loss_name:
            parts.append(f"loss {self.loss_name}")
        return {"path": self.display, "kind": "setup", "description": "; ".join(parts) or "live objects",
                "notes": list(self.notes)}
