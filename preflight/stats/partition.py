"""The partition-statistics core: a table's statistics computed from any piece of it, and merged.

``table_layout`` decides, once per schema, what is measured: which columns are numeric, which is
the target, which are text, the sample's capacity. ``partition_statistics`` measures one piece (a
pyarrow ``RecordBatch`` or ``Table``, a polars or pandas ``DataFrame``) into ``TableStats``: the
moments of every numeric column (Chan et al.'s parallel update), the class counts and label runs of
the target with what stitches runs across a boundary, row hashes for duplicates, missing text cells,
the first rows with missing values, and a bounded order-keeping sample. ``merge_statistics(a, b)``
combines the statistics of ``a`` followed directly by ``b``; it is associative, so a map over
partitions and an ordered reduce give the statistics of the whole. The local readers fold their
batches with the same ``add_partition``.

What is exact whatever the partitioning: counts, runs, row-hash counts, missing cells, first bad
rows; the moments up to float rounding. The sample is the same when each piece is given its
``origin`` (the position of its first row in the table), as the local readers do; with origins
unknown (0 for every piece) it is still in row order and keeps every row at one common rate, but
which rows depends on where the pieces start. The target's runs within a time key's blocks
(``TableStats.within_runs``) are streamed by one fold only; merged statistics count them again on
the sample.

Pure polars and numpy, picklable: an engine's workers compute partitions, the driver merges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import polars as pl
import polars.selectors as cs

from preflight.stats.batch_moments import batch_moments, column, moment_plan
from preflight.stats.moments import Moments
from preflight.stats.names import is_id_name
from preflight.stats.order import BlockRuns
from preflight.stats.shards import ShardStats
from preflight.stats.table import TableStats
from preflight.stats.timeorder import time_unit

SAMPLE_ROWS = 8192  # rows kept in the ordered sample (the probe trains on at most half of them)
MAX_SAMPLE_CELLS = 4_000_000  # bound on the sample's memory for very wide tables
# Cells of a text column that stand for a missing value (compared stripped and lower-cased).
PLACEHOLDERS = ("", "na", "n/a", "nan", "null", "none", "?", "-")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: (f, t) -> f * _MIX + t (mod 2**64) keeps rows with distinct f apart


def classify(dtype: pl.DataType) -> str:
    """A column's kind from its dtype: numeric, binary, datetime, empty, categorical or text."""
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


@dataclass(frozen=True)
class Layout:
    """What is measured in every partition of one table: decided once, from the schema."""

    schema: pl.Schema
    target: str | None
    numeric: tuple[str, ...]  # numeric and boolean columns, the target among them if numeric
    features: tuple[str, ...]  # numeric and boolean columns but the target
    text: tuple[str, ...]
    time_key: tuple[str, ...]  # time-named features, coarsest first (target runs within their blocks)
    sample_capacity: int

    @property
    def names(self) -> list[str]:
        return list(self.schema.names())

    def kind(self, name: str) -> str:
        return classify(self.schema[name])

    def start(self, origin: int = 0) -> TableStats:
        """Empty statistics of a piece whose first row is row ``origin`` of the table."""
        stats = TableStats.start(list(self.numeric), sample_capacity=self.sample_capacity)
        stats.origin = origin
        stats.layout = self
        if self.target is not None and self.time_key:
            stats.within_runs = BlockRuns(key=self.time_key)
        return stats


def table_layout(schema: pl.Schema | dict[str, Any] | Any, target: str | None = None) -> Layout:
    """The layout of a table with this schema (a polars ``Schema``, a mapping of names to polars
    dtypes, or a pyarrow ``Schema``) and ``target`` (a column name, already chosen, or None)."""
    schema = _polars_schema(schema)
    names = list(schema.names())
    if target is not None and target not in names:
        raise ValueError(f"no column named {target!r} in the schema")
    kinds = {n: classify(schema[n]) for n in names}
    numeric = tuple(n for n in names if kinds[n] in ("numeric", "binary"))
    features = tuple(n for n in numeric if n != target)
    text = tuple(n for n in names if kinds[n] in ("text", "categorical"))
    capacity = max(16, min(SAMPLE_ROWS, MAX_SAMPLE_CELLS // max(1, len(features) + 1)))
    named = sorted((u, j) for j, n in enumerate(features) if (u := time_unit(n)) is not None)
    return Layout(schema, target, numeric, features, text, tuple(features[j] for _, j in named), capacity)


def partition_statistics(part: Any, layout: Layout, *, origin: int = 0, shard: str | None = None) -> TableStats:
    """The statistics of one piece of the table ``layout`` describes; ``origin`` is the position of
    its first row in the table when known (it makes the merged sample the one a single pass takes);
    ``shard`` names the shard (a file, a partition) the rows belong to, for PF205's per-shard target."""
    stats = layout.start(origin)
    add_partition(stats, as_frame(part), layout, shard)
    return stats


def merge_statistics(*parts: TableStats) -> TableStats:
    """The statistics of the pieces one after another, in the order given."""
    if not parts:
        raise ValueError("merge_statistics needs at least one partition's statistics")
    return reduce(TableStats.merge, parts)


def add_partition(stats: TableStats, batch: pl.DataFrame, layout: Layout, shard: str | None = None) -> None:
    """Fold the next rows of the table into ``stats`` in place (a reader's batches, in order), the
    rows of shard ``shard`` when named."""
    n = batch.height
    if n == 0:
        return
    offset = stats.origin + stats.n_rows
    _add_values(batch, offset, stats, layout, shard)
    _add_rows(batch, stats, layout)
    stats.n_rows += n


def as_frame(part: Any) -> pl.DataFrame:
    """A polars DataFrame of a pyarrow RecordBatch or Table, a pandas or polars DataFrame."""
    if isinstance(part, pl.DataFrame):
        return part
    module = type(part).__module__.split(".")[0]
    if module == "pyarrow":
        import pyarrow as pa  # type: ignore[import-untyped]

        if isinstance(part, pa.RecordBatch):
            part = pa.Table.from_batches([part])
        out = pl.from_arrow(part)
    elif module == "pandas":
        out = pl.from_pandas(part)
    else:
        raise TypeError(f"partition_statistics reads a pyarrow RecordBatch or Table, or a pandas or polars "
                        f"DataFrame; not a {type(part).__name__}")
    if not isinstance(out, pl.DataFrame):
        raise TypeError("the partition is a single column, not a table")
    return out


def _polars_schema(schema: Any) -> pl.Schema:
    if isinstance(schema, pl.Schema):
        return schema
    if type(schema).__module__.split(".")[0] == "pyarrow":
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty.schema
    return pl.Schema(schema)


# --- per piece ------------------------------------------------------------------------------

def _add_values(batch: pl.DataFrame, offset: int, stats: TableStats, layout: Layout, shard: str | None) -> None:
    """Moments, bad rows, the target and the sample of one non-empty batch (row ``offset`` first)."""
    numeric, target = list(layout.numeric), layout.target
    if numeric:
        moments = batch_moments(batch, moment_plan(numeric, layout.schema), numeric)
        stats.moments = stats.moments.merge(moments)
        _track_bad_rows(batch, numeric, moments, stats, offset)
    if target is not None:
        col = column(batch, target)
        missing = col.is_null().to_numpy()
        if batch.schema[target].is_float():
            missing = missing | col.is_nan().fill_null(False).to_numpy()
        labels = _labels(col)
        stats.add_target(labels, missing)
        if shard is not None:
            stats.shards = stats.shards or ShardStats()
            stats.shards.add(shard, labels[~missing] if missing.any() else labels)
        if stats.within_runs is not None:
            keys = batch.select(cs.by_name(stats.within_runs.key).as_expr().cast(pl.Float64)
                                .fill_null(float("nan"))).to_numpy()
            stats.within_runs.update(labels, keys, missing)
    keep = stats.sample.take(offset, batch.height)
    if len(keep):
        stats.sample.add(offset + keep, _sample_block(batch, list(layout.features), target, keep))


def _add_rows(batch: pl.DataFrame, stats: TableStats, layout: Layout) -> None:
    """Row hashes (features; features and target; identifier-named columns left out, as they make every
    row unique) and the missing cells of text columns."""
    target = layout.target
    feats = [n for n in batch.columns if n != target and not is_id_name(n) and _hashable(batch.schema[n])]
    if feats:
        cols = [batch.get_column(n).alias(f"c{i}") for i, n in enumerate(feats)]  # names may be regexes
        f = pl.DataFrame(cols).hash_rows(seed=17).to_numpy().astype(np.uint64)
        w = f
        if target is not None and _hashable(batch.schema[target]):
            # the whole row's hash from the features' and the target's (one more column hashed, not the row)
            t = column(batch, target).hash(seed=29).to_numpy().astype(np.uint64)
            w = f * _MIX + t
        stats.row_hashes.add(f, w)
    for n in layout.text:
        if batch.schema[n] not in (pl.String, pl.Categorical) and not isinstance(batch.schema[n], pl.Enum):
            continue  # lists, structs, binary: not text cells
        s = column(batch, n).cast(pl.String)
        stripped = s.str.strip_chars()
        placeholder = stripped.str.to_lowercase().is_in(PLACEHOLDERS).fill_null(False)
        words = s.is_not_null() & ~placeholder & stripped.cast(pl.Float64, strict=False).is_null()
        stats.add_text_missing(n, s.null_count(), int(placeholder.sum()), int(words.sum()))


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
