"""A folder or prefix of shards read as one table, in this process (``preflight check PATH --engine local``).

The shards are the CSV/TSV (compressed too) and Parquet files under the path, sorted by their path
below it, less those under a name that starts with ``_`` or ``.`` (``_temporary/``, ``_SUCCESS``,
``.hidden``: what Spark, Hive and Ray leave out too). Each is read by its usual reader, so a ragged
row or a corrupt file is named as it is for one file, and its batches fold into one running
``TableStats`` through the partition core (``preflight.stats.partition``), each row's shard named:
the statistics are those of one pass over the shards concatenated in that order. Hive-style folder
names (``label=1/part-0.parquet``) add their columns, typed as Spark types them (integers, else
floats, else text), unless a file holds a column of that name.

The table's columns are the first shard's that has rows (a later shard may order them otherwise);
a later shard with other columns is an error line naming it. An integer column that is float in a
later shard is read as float from there on; a text column in a later shard is converted to the
first shard's type, and a value that does not convert is an error line naming the shard; a column
that is text in the first shard and numbers in a later one stays text, with a note.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import polars as pl

from preflight.errors import PreflightError
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import TableSubject
from preflight.stats.partition import Layout, table_layout
from preflight.stats.table import TableStats

SHARD_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class Shards:
    """The state of one folder's fold: its layout, the running statistics, the shard being read and
    its Hive partition values."""

    def __init__(self, options: ReadOptions, partitions: dict[str, pl.DataType]) -> None:
        self.options, self.partitions = options, partitions
        self.layout: Layout | None = None
        self.stats: TableStats | None = None
        self.reason = ""
        self.first = ""
        self.shard = ""
        self.values: dict[str, str | None] = {}
        self.notes: list[str] = []

    @property
    def rows(self) -> int:
        return 0 if self.stats is None else self.stats.n_rows

    def layout_for(self, schema: pl.Schema, display: str) -> tuple[Layout, str]:
        """The layout to read this shard with: set by the first shard with rows (a shard before it with
        no rows sets it only until then), widened from integer to float where a shard needs it."""
        from preflight.inputs.tabular import choose_target

        schema = self._with_partitions(schema)
        if self.layout is None or self.rows == 0:
            target, self.reason = choose_target(list(schema.names()), self.options.target, display,
                                                self.options.target_source)
            self.layout, self.first = table_layout(schema, target), self.shard
            self.stats = self.layout.start()
            return self.layout, self.reason
        want = self.layout.names
        if set(schema.names()) != set(want):  # the same columns in another order: read by name
            missing = [n for n in want if n not in schema]
            extra = [n for n in schema.names() if n not in want]
            what = (f"lacks {', '.join(map(repr, missing[:3]))}" if missing else
                    f"has {', '.join(map(repr, extra[:3]))} too")
            raise PreflightError(f"is a shard with other columns than the first shard {self.first!r}: it {what}; "
                                 "the shards of one table share their columns", display)
        first = self.layout.schema
        wider = {n: pl.Float64 for n in want if first[n].is_integer() and schema[n].is_float()}
        if wider:
            self.layout = table_layout(pl.Schema({n: wider.get(n, first[n]) for n in want}), self.layout.target)
            assert self.stats is not None
            self.stats.layout = self.layout
        return self.layout, self.reason

    def _with_partitions(self, schema: pl.Schema) -> pl.Schema:
        extra = {k: t for k, t in self.partitions.items() if k not in schema}
        return pl.Schema({**dict(schema), **extra}) if extra else schema

    def cast(self, batches: Iterable[pl.DataFrame], schema: pl.Schema, display: str) -> Iterator[pl.DataFrame]:
        """The batches with the layout's column types, and the shard's partition columns."""
        assert self.layout is not None
        layout = self.layout.schema
        extra = {k: t for k, t in self.partitions.items() if k not in schema}
        differ = {n: layout[n] for n in schema.names() if schema[n] != layout[n]}
        for n, t in list(differ.items()):
            said = any(note.startswith(f"column {n!r} is text") for note in self.notes)
            if not t.is_numeric() and schema[n].is_numeric() and not said:  # text first, numbers here: once
                self.notes.append(f"column {n!r} is text in the first shard {self.first!r} and numbers in "
                                  f"{self.shard!r} (and maybe others): read as text")
        for batch in batches:
            if extra:
                batch = batch.with_columns(pl.lit(self.values.get(k), dtype=pl.String).cast(t).alias(k)
                                           for k, t in extra.items())
            if differ:
                batch = self._converted(batch, differ, schema, display)
            yield batch if batch.columns == layout.names() else batch.select(layout.names())

    def _converted(self, batch: pl.DataFrame, differ: dict[str, Any], schema: pl.Schema,
                   display: str) -> pl.DataFrame:
        try:
            return batch.cast(differ, strict=True)  # type: ignore[arg-type]
        except (pl.exceptions.PolarsError, ValueError):
            name = next(n for n in differ if _fails(batch.get_column(n), differ[n]))
            raise PreflightError(f"has column {name!r} as {schema[name]} where the first shard {self.first!r} "
                                 f"has {differ[name]}, and its values do not convert", display) from None


def _fails(col: pl.Series, dtype: Any) -> bool:
    try:
        col.cast(dtype, strict=True)
        return False
    except (pl.exceptions.PolarsError, ValueError):
        return True


def dataset_subject(path: str, options: ReadOptions, walk: Any = None) -> TableSubject:
    """The table subject of every shard under ``path`` (a folder, an ``s3://`` prefix, or one file)."""
    from preflight.inputs import read_path
    from preflight.inputs.tabular import table_subject

    files = shard_files(path, walk)
    partitions = {name: hive_values(name) for name, _ in files}
    shards = Shards(options, hive_types(partitions.values()))
    read = replace(options, dataset=shards)
    for name, f in files:
        shards.shard, shards.values = name, partitions[name]
        read_path(f, read)
    total = shards.stats
    if total is None or total.n_rows == 0:
        raise PreflightError(f"has no rows in its {len(files)} shards; there is nothing to check", path)
    notes = [f"read as one table of {len(files)} shards, in name order"] if len(files) > 1 else []
    return table_subject(total, path=path, display=path, options=options, reason=shards.reason,
                         notes=notes + list(dict.fromkeys(shards.notes)))


def shard_files(path: str, walk: Any = None) -> list[tuple[str, Any]]:
    """(name below ``path``, path or ``Remote``) of each shard, sorted by name; none is an error."""
    from preflight.inputs import expand_inputs

    named = sorted((shard_name(str(p), path), p) for p, _ in _items(expand_inputs([path], walk)) if _is_shard(str(p)))
    files = [(name, p) for name, p in named if not any(part.startswith(("_", ".")) for part in name.split("/"))]
    if not files:
        raise PreflightError("holds no CSV or Parquet shards to read as one table", path)
    return files


def shard_kind(name: str) -> str:
    """"csv", "tsv" or "parquet", by the name's suffix (a compressed CSV is "csv")."""
    from preflight.inputs.compressed import compressed_suffix

    lower = name.lower()
    inner = compressed_suffix(lower)
    if inner:
        return "tsv" if inner.startswith(".tsv") else "csv"
    return "tsv" if lower.endswith(".tsv") else "csv" if lower.endswith(".csv") else "parquet"


def read_one(path: str, options: ReadOptions) -> Any:
    """The one input of ``preflight probe``: a file or an object, or a folder or prefix (ending in
    ``/``) of shards, read as one table."""
    from preflight.inputs import one_input, read_path
    from preflight.urls import is_remote

    if os.path.isdir(path) or (is_remote(path) and path.split("?", 1)[0].endswith("/")):
        return dataset_subject(path, options)
    return read_path(one_input(path), options)


def hive_values(name: str) -> dict[str, str | None]:
    """The ``key=value`` folder names of a shard's path below the root (``label=1/part-0.parquet``)."""
    out: dict[str, str | None] = {}
    for part in name.split("/")[:-1]:
        key, eq, value = part.partition("=")
        if eq and key:
            out[key] = None if value == HIVE_NULL else unquote(value)
    return out


def hive_types(values: Iterable[dict[str, str | None]]) -> dict[str, pl.DataType]:
    """Each partition key's type over every shard: integers, else floats, else text."""
    seen: dict[str, list[str]] = {}
    for v in values:
        for k, x in v.items():
            seen.setdefault(k, [])
            if x is not None:
                seen[k].append(x)
    return {k: pl.Int64() if all(re.fullmatch(r"[+-]?\d{1,18}", x) for x in xs) else
            pl.Float64() if all(_is_float(x) for x in xs) else pl.String() for k, xs in seen.items()}


def _is_float(x: str) -> bool:
    try:
        float(x)
        return True
    except ValueError:
        return False


def _items(items: list[Any]) -> list[tuple[Path, bool]]:
    for item in items:
        if isinstance(item, PreflightError):
            raise item
    return items


def _is_shard(name: str) -> bool:
    from preflight.inputs.compressed import compressed_suffix

    return compressed_suffix(name) is not None or name.lower().endswith(SHARD_SUFFIXES)


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(//)?")
_ENCODED = ("file", "s3a", "s3n", "hdfs", "abfs", "abfss", "wasb", "wasbs")  # Hadoop's URIs: percent-encoded


def shard_name(raw: str, root: str) -> str:
    """A shard's name relative to the dataset's ``root``, the same whoever lists it: a local path, a
    ``file:`` URI (Spark's ``input_file_name``, percent-encoded), an ``s3://`` URL as listed here, an
    ``s3a://`` URI (Spark's) or a scheme-less ``bucket/key`` (pyarrow's, Ray's ``include_paths``)."""
    def scheme(s: str) -> str | None:
        return s.split(":", 1)[0].lower() if _SCHEME.match(s) and not re.match(r"^[a-zA-Z]:[\\/]", s) else None

    remote = scheme(root) not in (None, "file")

    def plain(s: str) -> str:
        kind = scheme(s)
        if kind is None:
            return s.strip("/") if remote else os.path.abspath(s).strip("/")  # pyarrow's bucket/key
        s = s.split("?", 1)[0].split("#", 1)[0]
        body = _SCHEME.sub("", s)
        body = unquote(body) if kind in _ENCODED else body
        if kind == "file":
            return os.path.abspath("/" + body.lstrip("/")).strip("/")
        return body.strip("/")

    name, top = plain(raw), plain(root)
    if name == top:
        return os.path.basename(name)
    return name[len(top) + 1:] if name.startswith(top + "/") else name
