"""Per-batch moments of a table's numeric columns, in one polars ``select``.

The statistics core for files, frames and engine partitions: ``moment_plan`` builds the
expressions once per schema, ``batch_moments`` evaluates them on one batch (native code, no Python
loop over rows) and returns mergeable ``Moments``. Values near the float64 limit, whose sum
overflows in polars, are rescaled before averaging.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import polars as pl
import polars.selectors as cs

from preflight.stats.moments import Moments

MOMENT_FIELDS = 9  # per column: finite count, nulls, NaN, +inf, -inf, mean, variance, min, max
FAST_FIELDS = (0, 1, 5, 6, 7, 8)  # what the fast select computes: the fields but the non-finite counts


class Plan(NamedTuple):
    """The selects of one schema: output ``p`` of a select is field ``where[p] % MOMENT_FIELDS`` of
    column ``where[p] // MOMENT_FIELDS``."""

    exprs: list[pl.Expr]  # every field, over each column's finite values
    where: np.ndarray
    fast: list[pl.Expr]  # FAST_FIELDS over the raw values: right when no float holds NaN or inf
    fast_where: np.ndarray
    floats: np.ndarray  # the columns (indices into numeric) of a float dtype


def moment_plan(numeric: list[str], schema: pl.Schema) -> Plan:
    """The plan of ``numeric``'s columns, built once per distinct schema (a folder of many files of
    one layout builds it once)."""
    return _plan(tuple((n, schema[n]) for n in numeric))


@lru_cache(maxsize=64)
def _plan(columns: tuple[tuple[str, pl.DataType], ...]) -> Plan:
    numeric = [n for n, _ in columns]
    schema = pl.Schema(list(columns))
    return _build_plan(numeric, schema)


def _build_plan(numeric: list[str], schema: pl.Schema) -> Plan:
    """One multi-column expression per statistic and dtype group, and where each output lands.

    Building one expression per column and statistic costs Python time per column (seconds for a
    10,000-column table); one selector of all names expands in native code. Output ``p`` of the select is
    field ``where[p] % MOMENT_FIELDS`` of column ``where[p] // MOMENT_FIELDS``.
    """
    index = {n: i for i, n in enumerate(numeric)}
    exprs, where = _select(numeric, schema, index, fast=False)
    fast, fast_where = _select(numeric, schema, index, fast=True)
    floats = np.array([i for i, n in enumerate(numeric) if schema[n].is_float()], dtype=np.int64)
    return Plan(exprs, where, fast, fast_where, floats)


def _select(numeric: list[str], schema: pl.Schema, index: dict[str, int],
            fast: bool) -> tuple[list[pl.Expr], np.ndarray]:
    groups: dict[str, list[str]] = {"float": [], "bool": [], "other": []}
    for name in numeric:
        dtype = schema[name]
        groups["float" if dtype.is_float() else "bool" if dtype == pl.Boolean else "other"].append(name)
    exprs: list[pl.Expr] = []
    where: list[int] = []
    for kind, names in groups.items():
        if not names:
            continue
        e = cs.by_name(names).as_expr()  # literal names: pl.col("^a.*$") would be a regex
        if kind == "bool":
            e = e.cast(pl.Int8)
        finite = pl.when(e.is_finite()).then(e) if kind == "float" and not fast else e  # non-finite -> null
        stats = [(0, finite.count()), (1, e.null_count())]
        if kind == "float" and not fast:
            stats += [(2, e.is_nan().sum()), (3, (e == float("inf")).sum()), (4, (e == float("-inf")).sum())]
        stats += [(5, finite.mean().cast(pl.Float64)), (6, finite.var(ddof=0).cast(pl.Float64)),
                  (7, finite.min().cast(pl.Float64)), (8, finite.max().cast(pl.Float64))]
        cols = np.array([index[n] for n in names], dtype=np.int64)
        for field_no, expr in stats:
            exprs.append(expr.name.suffix(f"\x1f{field_no}"))
            where.extend((cols * MOMENT_FIELDS + field_no).tolist())
    return exprs, np.asarray(where, dtype=np.int64)


def batch_moments(batch: pl.DataFrame, plan: Plan, numeric: list[str]) -> Moments:
    """The ``Moments`` of ``numeric``'s columns in one batch, from the expressions of ``moment_plan``.

    First the fast select (six plain aggregations, a quarter of the full select's time): where every
    float column's mean and variance come out finite, no float holds a NaN or an inf (one would make
    its sum non-finite), so the plain count is the finite count, the non-finite counts are 0 and the
    rest are the full select's numbers. Otherwise the full select runs on the batch."""
    k = len(numeric)
    a = _fields(batch, plan.fast, plan.fast_where, k)
    raw = a[plan.floats]
    if ((raw[:, 0] > 0) & ~(np.isfinite(raw[:, 5]) & np.isfinite(raw[:, 6]))).any():
        a = _fields(batch, plan.exprs, plan.where, k)
    n = a[:, 0].astype(np.int64)
    pos_inf, neg_inf = a[:, 3].astype(np.int64), a[:, 4].astype(np.int64)
    has = n > 0
    for i in np.flatnonzero(has & ~(np.isfinite(a[:, 5]) & np.isfinite(a[:, 6]))):
        # the sum overflowed (values near 1e308): polars' mean is inf or NaN; scale, then unscale
        a[i, 5], a[i, 6] = _scaled_mean_var(column(batch, numeric[i]))
    var = np.where(np.isnan(a[:, 6]), 0.0, a[:, 6])
    with np.errstate(over="ignore"):
        m2 = np.where(has, var * n, 0.0)  # +inf when the variance overflows, never clipped to a finite max
    return Moments(
        n=n,
        missing=a[:, 1].astype(np.int64),
        nonfinite=a[:, 2].astype(np.int64) + pos_inf + neg_inf,
        pos_inf=pos_inf,
        neg_inf=neg_inf,
        mean=np.where(has, a[:, 5], 0.0),
        m2=m2,
        min=np.where(has, a[:, 7], np.nan),
        max=np.where(has, a[:, 8], np.nan),
    )


def _fields(batch: pl.DataFrame, exprs: list[pl.Expr], where: np.ndarray, k: int) -> np.ndarray:
    """One select's outputs as a (k, MOMENT_FIELDS) array; fields it does not compute are 0."""
    row = batch.select(exprs).row(0)
    flat = np.zeros(k * MOMENT_FIELDS, dtype=np.float64)
    flat[where] = np.array([np.nan if v is None else float(v) for v in row], dtype=np.float64)
    return flat.reshape(k, MOMENT_FIELDS)


def column(frame: pl.DataFrame, name: str) -> pl.Series:
    """A column under a neutral name: many polars Series methods run as ``pl.col(series.name)``, and
    a name like ``^a.*$`` is a regex there (an IndexError, or another column's values)."""
    return frame.get_column(name).alias("value")


def _scaled_mean_var(col: pl.Series) -> tuple[float, float]:
    """Mean and population variance of a column's finite values without overflowing the sum.

    The mean is exact to rounding (|mean| <= max |x|); the variance is +inf only when it really
    exceeds the float64 range.
    """
    x = col.cast(pl.Float64).drop_nulls().to_numpy()
    x = x[np.isfinite(x)]
    scale = float(np.abs(x).max()) if len(x) else 0.0
    if scale == 0.0:
        return 0.0, 0.0
    z = x / scale
    mean = float(z.mean())
    with np.errstate(over="ignore"):
        return mean * scale, float(((z - mean) ** 2).mean()) * scale * scale
