"""One streamed pass over a table's batches: column typing, target choice, statistics, sample.

Every tabular input (CSV, Parquet, NumPy, DataFrame) arrives here as an iterator of polars
DataFrames, folded batch by batch into the partition-statistics core (``preflight.stats.partition``:
per batch the moments of all numeric columns in one polars ``select``, merged in numpy, the target
followed in row order). Memory is one batch plus a bounded sample, whatever the file's length.
``table_subject`` turns a whole table's statistics, however they were gathered, into the subject.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import numpy as np
import polars as pl

from preflight.errors import PreflightError
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import Column, ColumnKind, TableSample, TableSubject, Task
from preflight.stats.order import BlockRuns
from preflight.stats.partition import add_partition, table_layout
from preflight.stats.partition import classify as classify_dtype
from preflight.stats.table import TableStats
from preflight.stats.timeorder import time_order

# Column names taken as the target when --target is not given, in order of preference.
TARGET_NAMES = ("label", "labels", "target", "y", "class", "outcome", "response", "diagnosis",
                "survived", "churn", "is_fraud", "default")
MAX_CLASSES = 20  # a numeric target with more distinct values than this is a regression target
# An integer target whose values are spread out (more than SPREAD x as wide as their count: 120, 135,
# 142 pounds) or too many for its rows (fewer than MIN_ROWS_PER_CLASS rows a value) is a quantity.
SPREAD = 2
MIN_ROWS_PER_CLASS = 5
# A table wider than this is refused: 100,000 columns take 20 s and 1.5 GB for three rows, and a
# header that wide is more often a transposed file or a data row than a training table.
MAX_COLUMNS = 50_000


def classify(name: str, dtype: pl.DataType) -> ColumnKind:
    return cast(ColumnKind, classify_dtype(dtype))


def choose_target(names: list[str], requested: str | None, display: str,
                  source: str = "--target") -> tuple[str | None, str]:
    if requested is not None:
        if requested not in names:
            close = [n for n in names if n.lower() == requested.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else f"; columns are: {_shorten(names)}"
            raise PreflightError(f"no column named {requested!r} for {source}{hint}", display)
        return requested, f"given with {source}"
    lowered = {n.lower(): n for n in reversed(names)}
    for candidate in TARGET_NAMES:
        if candidate in lowered:
            return lowered[candidate], "inferred from its name; set --target to choose another"
    return None, "no column looks like a target (label, target, y, class, ...); ran the target-free rules only"


def scan_table(batches: Iterable[pl.DataFrame], schema: pl.Schema, *, path: str | None, display: str,
               options: ReadOptions, notes: list[str] | None = None,
               on_error: Callable[[Exception], PreflightError] | None = None) -> TableSubject:
    """Read ``batches`` once and return the subject the table rules check; with ``options.dataset``
    (one shard of a table read as shards), a subject that holds only the shard's statistics."""
    names = list(schema.names())
    if not names:
        raise PreflightError("has no columns", display)
    if len(names) > MAX_COLUMNS:
        raise too_many_columns(len(names), display)
    shards = options.dataset
    if shards is not None:
        layout, reason = shards.layout_for(schema, display)
        target, shard, batches = layout.target, shards.shard, shards.cast(batches, schema, display)
        stats = shards.stats  # one running fold over the shards: runs within blocks stream across them
    else:
        target, reason = choose_target(names, options.target, display, options.target_source)
        layout, shard = table_layout(schema, target), None
        stats = layout.start()
    try:
        for batch in batches:
            add_partition(stats, batch, layout, shard)
            if options.on_rows is not None and batch.height:
                options.on_rows(batch.height)
    except PreflightError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if on_error is not None:
            raise on_error(exc) from None
        raise PreflightError(f"could not be read: {_first_line(exc)}", display) from None
    if shards is not None:
        return TableSubject(path=path, display=display, columns=[], stats=stats, target=target,
                            target_reason=reason, notes=list(notes or []))
    if stats.n_rows == 0:
        raise PreflightError("has a header but no rows; there is nothing to check", display)
    return table_subject(stats, path=path, display=display, options=options, reason=reason, notes=notes)


def table_subject(stats: TableStats, *, path: str | None, display: str, options: ReadOptions,
                  reason: str = "given", notes: list[str] | None = None) -> TableSubject:
    """The subject the table rules check, from a whole table's statistics (one pass, or merged
    partitions: ``preflight.stats.partition``)."""
    layout = stats.layout
    schema, names, target = layout.schema, layout.names, layout.target
    columns = [Column(n, _refine_kind(n, cast(ColumnKind, layout.kind(n)), stats), str(schema[n])) for n in names]
    subject = TableSubject(path=path, display=display, columns=columns, stats=stats, target=target,
                           target_reason=reason, notes=list(notes or []))
    _finish_subject(subject, schema, options)
    return subject


def too_many_columns(n: int, display: str) -> PreflightError:
    return PreflightError(f"has {n:,} columns; preflight checks tables of at most {MAX_COLUMNS:,} columns "
                          "(is the file transposed, or its header a data row?)", display)


# --- after the pass --------------------------------------------------------------------------

def _finish_subject(subject: TableSubject, schema: pl.Schema, options: ReadOptions) -> None:
    """Set what is judged from the whole table: the time column, the task, the sample, the fingerprint."""
    subject.time_column = next((c.name for c in subject.columns if c.kind == "datetime"), None)
    subject.task = _task(subject, schema)
    if options.task is not None and subject.target is not None:
        subject.task = _given_task(subject, options)
    subject.sample = _finish_sample(subject)
    if subject.time_column is None and subject.sample is not None:
        order = time_order(subject.sample.features, subject.sample.X)
        if order is not None:
            subject.time_column, subject.time_order = order.column, order
            _check_within_runs(subject, order.columns)
    subject.fingerprint = _fingerprint(subject)


def _check_within_runs(subject: TableSubject, key: tuple[str, ...]) -> None:
    """The streamed within-block runs hold when the recognised time key is the one streamed (a
    time-named column that is not integer-valued is left out of the key); otherwise count them again
    on the ordered sample (every row of a table up to its capacity, an even thinning beyond)."""
    stats, sample = subject.stats, subject.sample
    if stats.within_runs is not None and stats.within_runs.key == key:
        return
    stats.within_runs = None
    if sample is None or sample.y is None or subject.task not in ("binary", "multiclass"):
        return
    runs = BlockRuns(key=key)
    idx = [sample.features.index(c) for c in key]
    y = sample.y
    runs.update(y, sample.X[:, idx], ~np.isfinite(y.astype(np.float64)))
    stats.within_runs = runs


def _refine_kind(name: str, kind: ColumnKind, stats: TableStats) -> ColumnKind:
    if kind not in ("numeric", "binary") or not stats.has(name):
        return kind
    c = stats.column(name)
    if c["n"] == 0:
        return "empty"
    if c["min"] >= 0 and c["max"] <= 1 and _integer_valued(stats, name):
        return "binary"
    return "numeric"


def _integer_valued(stats: TableStats, name: str) -> bool:
    c = stats.column(name)
    # a column whose finite values are all 0 or 1 has mean*(1-mean) == variance exactly
    p = c["mean"]
    return abs(c["std"] ** 2 - p * (1 - p)) <= 1e-9 * max(1.0, p)


def _task(subject: TableSubject, schema: pl.Schema) -> Task | None:
    t = subject.target
    if t is None:
        return None
    counts = subject.stats.target_counts
    dtype = schema[t]
    if counts.overflow:
        return "regression" if dtype.is_numeric() else "multiclass"
    values = list(counts.counts)
    if not dtype.is_numeric() or dtype == pl.Boolean:
        return "binary" if len(values) <= 2 else "multiclass"
    integral = all(float(v).is_integer() for v in values)
    if not integral or len(values) > MAX_CLASSES:
        return "regression"
    if len(values) <= 2:
        return "binary"
    return "regression" if reads_as_quantity([float(v) for v in values], sum(counts.counts.values())) else "multiclass"


def reads_as_quantity(values: list[float], n: int) -> bool:
    """Whether an integer target with a few distinct ``values`` (3 or more) over ``n`` rows is a quantity
    (a body weight in pounds: spread out, few rows a value) rather than class codes (0..k-1)."""
    k = len(values)
    span = max(values) - min(values) + 1
    return span > SPREAD * k or n < MIN_ROWS_PER_CLASS * k


def _given_task(subject: TableSubject, options: ReadOptions) -> Task:
    """The task named with --task / task = / task=, checked against the target's values."""
    task = options.task
    counts = subject.stats.target_counts
    k = len(counts.counts)
    where = f"{options.task_source} {task}"
    if task == "regression":
        if not subject.stats.has(subject.target or ""):
            raise PreflightError(f"{where}: the target {subject.target!r} is not numeric", subject.display)
        return "regression"
    if task == "binary" and (counts.overflow or k > 2):
        raise PreflightError(f"{where}: the target {subject.target!r} has more than two values "
                             f"({'many' if counts.overflow else k})", subject.display)
    if task == "multiclass" and counts.overflow:
        raise PreflightError(f"{where}: the target {subject.target!r} has too many distinct values for classes",
                             subject.display)
    return "binary" if task == "binary" else "multiclass"


def _finish_sample(subject: TableSubject) -> TableSample | None:
    rows, block = subject.stats.sample.result()
    if block is None:
        return None
    feats = tuple(c.name for c in subject.columns if subject.stats.has(c.name) and c.name != subject.target)
    if subject.target is None:
        return TableSample(feats, block.astype(np.float64), None, rows)
    X = block[:, :-1].astype(np.float64)
    raw = block[:, -1]
    classes: tuple[Any, ...] = ()
    if subject.task in ("binary", "multiclass"):
        classes = tuple(sorted(subject.stats.target_counts.counts, key=_order_key))
        lookup = {_norm(c): i for i, c in enumerate(classes)}
        lookup.update({str(c).lower(): i for i, c in enumerate(classes) if isinstance(c, bool)})  # sampled as 'true'
        y = np.array([lookup.get(_norm(v), np.nan) for v in raw], dtype=np.float64)
    else:
        y = raw.astype(np.float64)
    return TableSample(feats, X, y, rows, classes)


def _norm(v: Any) -> Any:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    return v.item() if hasattr(v, "item") else v


def _order_key(v: Any) -> tuple:
    return (0, float(v), "") if isinstance(v, (int, float, np.number)) else (1, 0.0, str(v))


def _fingerprint(subject: TableSubject) -> str:
    h = hashlib.sha256()
    m = subject.stats.moments
    for arr in (m.n, m.missing, m.nonfinite, m.mean, m.m2, m.min, m.max):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(repr((subject.n_rows, subject.target, [c.name for c in subject.columns])).encode())
    if subject.sample is not None:
        h.update(np.ascontiguousarray(subject.sample.X).tobytes())
        if subject.sample.y is not None:
            h.update(np.ascontiguousarray(subject.sample.y).tobytes())
    return h.hexdigest()[:32]


def batched(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


def _shorten(names: list[str], k: int = 8) -> str:
    head = ", ".join(names[:k])
    return head + (f", ... ({len(names)} columns)" if len(names) > k else "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
