"""Per-batch moments of a table's numeric columns, in one polars ``select``.

The statistics core for files, frames and engine partitions: ``moment_plan`` builds the
expressions once per schema, ``batch_moments`` evaluates them on one batch (native code, no Python
loop over rows) and returns mergeable ``Moments``. Values near the float64 limit, whose sum
overflows in polars, are rescaled before averaging.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import polars.selectors as cs

from preflight.stats.moments import Moments

Plan = tuple[list[pl.Expr], np.ndarray]  # the select's expressions, and where each output lands

MOMENT_FIELDS = 9  # per column: finite count, nulls, NaN, +inf, -inf, mean, variance, min, max


def moment_plan(numeric: list[str], schema: pl.Schema) -> Plan:
    """One multi-column expression per statistic and dtype group, and where each output lands.

    Building one expression per column and statistic costs Python time per column (seconds for a
    10,000-column table); one selector of all names expands in native code. Output ``p`` of the select is
    field ``where[p] % MOMENT_FIELDS`` of column ``where[p] // MOMENT_FIELDS``.
    """
    index = {n: i for i, n in enumerate(numeric)}
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
        finite = pl.when(e.is_finite()).then(e) if kind == "float" else e  # non-finite -> null
        stats = [(0, finite.count()), (1, e.null_count())]
        if kind == "float":
            stats += [(2, e.is_nan().sum()), (3, (e == float("inf")).sum()), (4, (e == float("-inf")).sum())]
        stats += [(5, finite.mean().cast(pl.Float64)), (6, finite.var(ddof=0).cast(pl.Float64)),
                  (7, finite.min().cast(pl.Float64)), (8, finite.max().cast(pl.Float64))]
        cols = np.array([index[n] for n in names], dtype=np.int64)
        for field_no, expr in stats:
            exprs.append(expr.name.suffix(f"\x1f{field_no}"))
            where.extend((cols * MOMENT_FIELDS + field_no).tolist())
    return exprs, np.asarray(where, dtype=np.int64)


def batch_moments(batch: pl.DataFrame, plan: Plan, numeric: list[str]) -> Moments:
    """The ``Moments`` of ``numeric``'s columns in one batch, from the expressions of ``moment_plan``."""
    k = len(numeric)
    exprs, where = plan
    row = batch.select(exprs).row(0)
    flat = np.zeros(k * MOMENT_FIELDS, dtype=np.float64)  # NaN/inf counts stay 0 where not computed
    flat[where] = np.array([np.nan if v is None else float(v) for v in row], dtype=np.float64)
    a = flat.reshape(k, MOMENT_FIELDS)
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
