"""In-memory tables (pandas or polars DataFrames) -> table subjects, read in row batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from preflight.errors import PreflightError
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import TableSubject
from preflight.inputs.tabular import batched, scan_table

BATCH_ROWS = 100_000


def to_polars(df: Any) -> pl.DataFrame:
    """A pandas DataFrame as polars, column by column (no pyarrow needed)."""
    if isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        raise PreflightError("a polars LazyFrame is a query, not yet data: pass lf.collect(), or write it with "
                             "lf.sink_parquet(path) and pass the path (a file is read in a stream)")
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise PreflightError(f"duplicate column names {dups}; rename them so each column can be named")
    cols = {}
    for name, (_, series) in zip(names, df.items()):
        values = series.to_numpy()
        if values.dtype.kind in "biufM":  # numbers, booleans and datetimes
            cols[name] = pl.Series(name, values)
        else:  # object, strings, categoricals, pandas nullable types
            try:
                cols[name] = pl.Series(name, series.to_numpy(dtype="float64", na_value=np.nan))
            except (TypeError, ValueError):
                cols[name] = pl.Series(name, [None if _isna(v) else str(v) for v in values], dtype=pl.String)
    return pl.DataFrame(cols)


def frame_subject(df: Any, *, target: str | None, display: str, target_source: str = "target=",
                  task: str | None = None, task_source: str = "task=") -> TableSubject:
    frame = to_polars(df)
    return scan_table(_batches(frame), frame.schema, path=None, display=display,
                      options=ReadOptions(target=target, target_source=target_source, task=task,
                                          task_source=task_source))


def _batches(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    return batched(frame, BATCH_ROWS)


def _isna(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))
