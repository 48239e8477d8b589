"""One streamed pass over a table's batches: column typing, target choice, statistics, sample.

Every tabular input (CSV, Parquet, NumPy, DataFrame) arrives here as an iterator of polars
DataFrames. Per batch, ``preflight.stats.batch_moments`` computes the moments of all numeric
columns in one polars ``select`` (native code, no Python loop over rows); numpy merges them
(``Moments.merge``) and follows the target in row order. Memory is one batch plus a bounded
sample, whatever the file's length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import polars as pl
import polars.selectors as cs

from preflight.errors import PreflightError
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import Column, ColumnKind, TableSample, TableSubject, Task
from preflight.stats.batch_moments import Plan, batch_moments, column, moment_plan
from preflight.stats.moments import Moments
from preflight.stats.names import is_id_name
from preflight.stats.order import BlockRuns
from preflight.stats.table import TableStats
from preflight.stats.timeorder import time_order, time_unit

# Column names taken as the target when --target is not given, in order of preference.
TARGET_NAMES = ("label", "labels", "target", "y", "class", "outcome", "response", "diagnosis",
                "survived", "churn", "is_fraud", "default")
MAX_CLASSES = 20  # a numeric target with more distinct values than this is a regression target
# An integer target whose values are spread out (more than SPREAD x as wide as their count: 120, 135,
# 142 pounds) or too many for its rows (fewer than MIN_ROWS_PER_CLASS rows a value) is a quantity.
SPREAD = 2
MIN_ROWS_PER_CLASS = 5
SAMPLE_ROWS = 8192  # rows kept in the ordered sample (the probe trains on at most half of them)
MAX_SAMPLE_CELLS = 4_000_000  # bound on the sample's memory for very wide tables
# A table wider than this is refused: 100,000 columns take 20 s and 1.5 GB for three rows, and a
# header that wide is more often a transposed file or a data row than a training table.
MAX_COLUMNS = 50_000
# Cells of a text column that stand for a missing value (compared stripped and lower-cased).
PLACEHOLDERS = ("", "na", "n/a", "nan", "null", "none", "?", "-")


def classify(name: str, dtype: pl.DataType) -> ColumnKind:
    if dtype.is_numeric():
        return "numeric"
    if dtype == pl.Boolean:
        return "binary"
    if dtype.is_temporal():
        return "datetime"
    if dtype == pl.Null:
        return "empty"
    if dtype in (pl.Categorical, pl.Enum):
        return "categorical"
    return "text"


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
    """Read ``batches`` once and return the subject the table rules check."""
    names = list(schema.names())
    if not names:
        raise PreflightError("has no columns", display)
    if len(names) > MAX_COLUMNS:
        raise too_many_columns(len(names), display)
    kinds = {n: classify(n, schema[n]) for n in names}
    target, reason = choose_target(names, options.target, display, options.target_source)
    numeric = [n for n in names if kinds[n] == "numeric" or kinds[n] == "binary"]
    features = [n for n in numeric if n != target]
    capacity = max(16, min(SAMPLE_ROWS, MAX_SAMPLE_CELLS // max(1, len(features) + 1)))
    stats = TableStats.start(numeric, sample_capacity=capacity)
    if target is not None:
        stats.within_runs = _within_runs(features)
    plan = moment_plan(numeric, schema)
    target_is_float = target is not None and schema[target].is_float()
    text = _text_columns(names, kinds)
    offset = 0
    try:
        for batch in batches:
            n = batch.height
            if n == 0:
                continue
            _add_batch(batch, offset, stats, plan, numeric, features, target, target_is_float)
            _add_rows(batch, stats, names, target, text)
            offset += n
            if options.on_rows is not None:
                options.on_rows(n)
    except PreflightError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if on_error is not None:
            raise on_error(exc) from None
        raise PreflightError(f"could not be read: {_first_line(exc)}", display) from None
    stats.n_rows = offset
    if offset == 0:
        raise PreflightError("has a header but no rows; there is nothing to check", display)

    columns = [Column(n, _refine_kind(n, kinds[n], stats), str(schema[n])) for n in names]
    subject = TableSubject(path=path, display=display, columns=columns, stats=stats, target=target,
                           target_reason=reason, notes=list(notes or []))
    _finish_subject(subject, schema, options)
    return subject


def _text_columns(names: list[str], kinds: dict[str, ColumnKind]) -> list[str]:
    return [n for n in names if kinds[n] in ("text", "categorical")]


def too_many_columns(n: int, display: str) -> PreflightError:
    return PreflightError(f"has {n:,} columns; preflight checks tables of at most {MAX_COLUMNS:,} columns "
                          "(is the file transposed, or its header a data row?)", display)


# --- per batch ---------------------------------------------------------------------------

def _add_batch(batch: pl.DataFrame, offset: int, stats: TableStats, plan: Plan, numeric: list[str],
               features: list[str], target: str | None, target_is_float: bool) -> None:
    """Merge one non-empty batch (its first row is row ``offset`` of the table) into ``stats``."""
    if numeric:
        moments = batch_moments(batch, plan, numeric)
        stats.moments = stats.moments.merge(moments)
        _track_bad_rows(batch, numeric, moments, stats, offset)
    if target is not None:
        col = column(batch, target)
        missing = col.is_null().to_numpy()
        if target_is_float:
            missing = missing | col.is_nan().fill_null(False).to_numpy()
        labels = _labels(col)
        stats.add_target(labels, missing)
        if stats.within_runs is not None:
            keys = batch.select(cs.by_name(stats.within_runs.key).as_expr().cast(pl.Float64)
                                .fill_null(float("nan"))).to_numpy()
            stats.within_runs.update(labels, keys, missing)
    keep = stats.sample.take(offset, batch.height)
    if len(keep):
        stats.sample.add(offset + keep, _sample_block(batch, features, target, keep))


def _add_rows(batch: pl.DataFrame, stats: TableStats, names: list[str], target: str | None,
              text: list[str]) -> None:
    """Row hashes (features; features and target; identifier-named columns left out, as they make every
    row unique) and the missing cells of text columns."""
    feats = [n for n in names if n != target and not is_id_name(n) and _hashable(batch.schema[n])]
    if feats:
        cols = [batch.get_column(n).alias(f"c{i}") for i, n in enumerate(feats)]  # names may be regexes
        f = pl.DataFrame(cols).hash_rows(seed=17).to_numpy().astype(np.uint64)
        w = f
        if target is not None and _hashable(batch.schema[target]):
            # the whole row's hash from the features' and the target's (one more column hashed, not the row)
            t = column(batch, target).hash(seed=29).to_numpy().astype(np.uint64)
            w = f * _MIX + t
        stats.row_hashes.add(f, w)
    for n in text:
        if batch.schema[n] not in (pl.String, pl.Categorical) and not isinstance(batch.schema[n], pl.Enum):
            continue  # lists, structs, binary: not text cells
        s = column(batch, n).cast(pl.String)
        stripped = s.str.strip_chars()
        placeholder = stripped.str.to_lowercase().is_in(PLACEHOLDERS).fill_null(False)
        words = s.is_not_null() & ~placeholder & stripped.cast(pl.Float64, strict=False).is_null()
        stats.add_text_missing(n, s.null_count(), int(placeholder.sum()), int(words.sum()))


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: (f, t) -> f * _MIX + t (mod 2**64) keeps rows with distinct f apart


def _hashable(dtype: pl.DataType) -> bool:
    return not dtype.is_nested() and dtype != pl.Object


def _track_bad_rows(batch: pl.DataFrame, numeric: list[str], m: Moments, stats: TableStats,
                    offset: int) -> None:
    for i, name in enumerate(numeric):
        if m.missing[i] + m.nonfinite[i] == 0 or len(stats.first_bad.get(name, ())) >= 3:
            continue
        col = column(batch, name)
        bad = col.is_null()
        if col.dtype.is_float():
            bad = bad | ~col.is_finite().fill_null(True)
        rows = bad.arg_true().head(3).to_numpy()
        if len(rows):
            stats.add_bad_rows(name, rows + offset)


def _labels(col: pl.Series) -> np.ndarray:
    if col.dtype.is_numeric() or col.dtype == pl.Boolean:
        return col.to_numpy()
    return col.cast(pl.String).to_numpy()


def _sample_block(batch: pl.DataFrame, features: list[str], target: str | None, keep: np.ndarray) -> np.ndarray:
    rows = batch[keep.tolist()] if len(keep) < batch.height else batch
    if features:  # one native cast for all columns (a Python loop costs seconds on wide tables)
        X = rows.select(cs.by_name(features).as_expr().cast(pl.Float64).fill_null(float("nan"))).to_numpy()
        X = X.astype(np.float64, copy=False)
    else:
        X = np.zeros((len(keep), 0))
    if target is None:
        return X
    t = column(rows, target)
    y = _as_float(t) if t.dtype.is_numeric() else t.cast(pl.String).to_numpy().astype(object)
    return np.column_stack([X, y])


def _as_float(col: pl.Series) -> np.ndarray:
    if col.dtype == pl.Boolean:
        col = col.cast(pl.Int8)
    return col.cast(pl.Float64).fill_null(float("nan")).to_numpy()


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


def _within_runs(features: list[str]) -> BlockRuns | None:
    """Runs of the target within blocks of the time key the table's time-named columns would form
    (``preflight.stats.timeorder``), streamed; None without such columns."""
    named = sorted((u, j) for j, n in enumerate(features) if (u := time_unit(n)) is not None)
    return BlockRuns(key=tuple(features[j] for _, j in named)) if named else None


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
