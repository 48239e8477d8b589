"""A folder or prefix of shards read as one table, in this process (``preflight check PATH --engine local``).

The shards are the CSV/TSV (compressed too) and Parquet files under the path, in name order (an
object store's listing order), each read by its usual reader, so a ragged row or a corrupt file is
named as it is for one file. Their batches fold into one ``TableStats`` through the partition core
(``preflight.stats.partition``), each row's shard named, with the table positions of one pass: the
statistics are those of the shards concatenated in that order. The first shard's schema is the
table's; a later shard with other columns is an error line naming it, and its columns are cast to
the first shard's types (an integer column that is float in another shard), a failed cast an error.
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


class Shards:
    """The state of one folder's fold: its layout (from the first shard), the rows so far and the
    name of the shard being read."""

    def __init__(self, display: str, options: ReadOptions) -> None:
        self.display, self.options = display, options
        self.layout: Layout | None = None
        self.reason = ""
        self.first = ""
        self.rows = 0
        self.shard = ""

    def layout_for(self, schema: pl.Schema, display: str) -> tuple[Layout, str]:
        from preflight.inputs.tabular import choose_target

        if self.layout is None:
            target, self.reason = choose_target(list(schema.names()), self.options.target, display,
                                                self.options.target_source)
            self.layout, self.first = table_layout(schema, target), self.shard
            return self.layout, self.reason
        want = self.layout.names
        if list(schema.names()) != want:
            missing = [n for n in want if n not in schema]
            extra = [n for n in schema.names() if n not in want]
            what = (f"lacks {', '.join(map(repr, missing[:3]))}" if missing else
                    f"has {', '.join(map(repr, extra[:3]))} too" if extra else "orders them differently")
            raise PreflightError(f"is a shard with other columns than the first shard {self.first!r}: it {what}; "
                                 "the shards of one table share their columns", display)
        return self.layout, self.reason

    def cast(self, batches: Iterable[pl.DataFrame], schema: pl.Schema, display: str) -> Iterator[pl.DataFrame]:
        """The batches with the first shard's column types."""
        assert self.layout is not None
        first = self.layout.schema
        differ = {n: first[n] for n in schema.names() if schema[n] != first[n]}
        for batch in batches:
            if differ:
                try:
                    batch = batch.cast(differ, strict=True)  # type: ignore[arg-type]
                except (pl.exceptions.PolarsError, ValueError):
                    name = next(iter(differ))
                    raise PreflightError(f"has column {name!r} as {schema[name]} where the first shard "
                                         f"{self.first!r} has {first[name]}, and its values do not convert",
                                         display) from None
            yield batch


def dataset_subject(path: str, options: ReadOptions, walk: Any = None) -> TableSubject:
    """The table subject of every shard under ``path`` (a folder, an ``s3://`` prefix, or one file)."""
    from preflight.inputs import expand_inputs, read_path
    from preflight.inputs.tabular import table_subject

    files = [p for p, _ in _items(expand_inputs([path], walk)) if _is_shard(str(p))]
    if not files:
        raise PreflightError("holds no CSV or Parquet shards to read as one table", path)
    shards = Shards(path, options)
    read = replace(options, dataset=shards)
    total: TableStats | None = None
    for f in files:
        shards.shard = shard_name(str(f), path)
        part = read_path(f, read).stats
        shards.rows += part.n_rows
        total = part if total is None else total.merge(part)
    assert total is not None
    if total.n_rows == 0:
        raise PreflightError(f"has no rows in its {len(files)} shards; there is nothing to check", path)
    notes = [f"read as one table of {len(files)} shards, in name order"] if len(files) > 1 else []
    return table_subject(total, path=path, display=path, options=options, reason=shards.reason, notes=notes)


def _items(items: list[Any]) -> list[tuple[Path, bool]]:
    for item in items:
        if isinstance(item, PreflightError):
            raise item
    return items


def _is_shard(name: str) -> bool:
    from preflight.inputs.compressed import compressed_suffix

    name = name.lower()
    inner = compressed_suffix(name)
    if inner is not None:
        name = name[: -len(inner)]
    return name.endswith(SHARD_SUFFIXES)


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(//)?")


def shard_name(raw: str, root: str) -> str:
    """A shard's name relative to the dataset's ``root``, the same whoever lists it: a local path, a
    ``file:`` URI (Spark's ``input_file_name``), an ``s3://``/``s3a://`` URL or a scheme-less
    ``bucket/key`` (pyarrow's, Ray's ``include_paths``)."""
    def scheme(s: str) -> str | None:
        return s.split(":", 1)[0].lower() if _SCHEME.match(s) and not re.match(r"^[a-zA-Z]:[\\/]", s) else None

    remote = scheme(root) not in (None, "file")

    def plain(s: str) -> str:
        if scheme(s) is None:
            return s.strip("/") if remote else os.path.abspath(s).strip("/")  # pyarrow's bucket/key
        if scheme(s) == "file":
            return os.path.abspath("/" + _SCHEME.sub("", unquote(s)).lstrip("/")).strip("/")
        return _SCHEME.sub("", unquote(s)).strip("/")

    name, top = plain(raw), plain(root)
    if name == top:
        return os.path.basename(name)
    return name[len(top) + 1:] if name.startswith(top + "/") else name
