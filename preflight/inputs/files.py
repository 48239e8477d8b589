"""Data files -> table subjects: CSV (delimiter sniffed), Parquet, .npy/.npz.

Files are only ever opened for reading. Each reader streams: polars' batched CSV and Parquet
readers, and memory-mapped NumPy arrays read in row blocks.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import numpy as np
import polars as pl
import polars.selectors as cs

from preflight.errors import PreflightError, os_reason
from preflight.inputs.csv_records import check_records, plain_records
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import TableSubject
from preflight.inputs.tabular import MAX_COLUMNS, scan_table, too_many_columns

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
BATCH_ROWS = 100_000
# A polars dtype as polars takes it: an instance (pl.Datetime("us")) or the class itself (pl.String).
Dtype: TypeAlias = pl.DataType | type[pl.DataType]


def read_csv(path: Path, options: ReadOptions) -> TableSubject:
    display = str(path)
    head = _read_head(path)
    if not head.strip():
        raise PreflightError("is empty; there is nothing to check", display)
    _check_text(head, display)
    notes: list[str] = []
    had_bom = head.startswith(b"\xef\xbb\xbf")
    text, lossy = _decode(head)
    if lossy:
        notes.append("not valid UTF-8: read with invalid bytes replaced by U+FFFD (numbers are unaffected); "
                     "re-save the file as UTF-8 to silence this")
    if had_bom:
        text = text[1:]
    if "\n" not in text and "\r" in text.rstrip("\r"):
        raise PreflightError("ends its lines with a bare CR (classic Mac OS line ends), which CSV readers see as "
                             "one line; convert the line ends to LF or CRLF", display)
    sep = sniff_delimiter(text)
    records = _Records(path, sep, display, checked=not plain_records(path, sep, display))
    if records.checked:  # quotes, or a line too long to prove short: the whole pass, before polars reads
        check_records(path, sep, display)
    with polars_path(path) as source:
        try:
            subject = _scan_csv(path, source, sep, display, notes, options, records)
        except PreflightError:
            records.check()  # a ragged row is named first, as when the whole pass ran before the read
            raise
    records.after_read()
    return subject


class _Records:
    """The field counts of a plain file (``csv_records.plain_records``), left to the reader: it runs
    ``check_records`` (which names the line of a ragged row) when polars raises, or when a batch's last
    column holds a null (a short row is padded with nulls; an empty last field, or a blank line, gives
    one too, and then the check passes)."""

    def __init__(self, path: Path, sep: str, display: str, checked: bool) -> None:
        self.path, self.sep, self.display = path, sep, display
        self.checked = checked
        self.short = False

    def watch(self, batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for batch in batches:
            if not self.checked and not self.short and batch.width and batch[:, -1].null_count():
                self.short = True
            yield batch

    def check(self) -> None:
        if not self.checked:
            self.checked = True
            check_records(self.path, self.sep, self.display)

    def after_read(self) -> None:
        if self.short:
            self.check()


def _check_text(head: bytes, display: str) -> None:
    """Refuse a file that is not text in an ASCII-compatible encoding (UTF-16 and -32 included)."""
    start = head[:64]
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or \
            (len(start) >= 4 and 2 * max(start[0::2].count(0), start[1::2].count(0)) >= len(start)):
        raise PreflightError("is UTF-16 (or UTF-32) text; preflight reads CSV as UTF-8: re-save it as UTF-8", display)
    if b"\x00" in head:
        at = head.index(b"\x00")
        raise PreflightError(f"is not a text file (a NUL byte at offset {at}); is it really CSV?", display)


@contextmanager
def polars_path(path: Path) -> Iterator[str]:
    """``path`` as polars takes it: a string it never expands as a glob pattern (the readers are called
    with ``glob=False``); a name that is not valid UTF-8 (bytes a Linux file system allows) is opened
    here and given as the ``/dev/fd`` path of the open file."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        fd = os.open(path, os.O_RDONLY)
        try:
            yield f"/dev/fd/{fd}"
        finally:
            os.close(fd)
        return
    yield name


def _scan_csv(path: Path, source: str, sep: str, display: str, notes: list[str],
              options: ReadOptions, records: _Records) -> TableSubject:
    overrides: dict[str, Dtype] = {}
    promoted = False
    decimal_comma = False
    for _ in range(64):  # each retry turns one mixed column into text
        lf = pl.scan_csv(source, glob=False, separator=sep, encoding="utf8-lossy", try_parse_dates=True,
                         infer_schema_length=10_000, schema_overrides=overrides or None,
                         raise_if_empty=False, quote_char='"', decimal_comma=decimal_comma)
        try:
            if not promoted:  # "nan", "inf" and "Infinity" cells make polars infer text
                promoted = True
                if not decimal_comma and sep != "," and _decimal_comma_columns(lf):
                    decimal_comma = True  # 1,5 for 1.5 in a ;-separated file (European spreadsheets)
                    notes.append("read with decimal commas (1,5 is 1.5)")
                    promoted = False
                    continue
                overrides.update(_float_columns(lf))
                if overrides:
                    continue
            schema = lf.collect_schema()
            def failed(e: Exception) -> PreflightError:
                records.check()  # a ragged row is named by its line
                return _retry_or_error(e, overrides, path, display, sep)

            return scan_table(records.watch(lf.collect_batches(chunk_size=BATCH_ROWS)), schema, path=display,
                              display=display, options=options,
                              notes=notes + _duplicate_notes(list(schema.names())), on_error=failed)
        except pl.exceptions.PolarsError as exc:
            records.check()
            raise _retry_or_error(exc, overrides, path, display, sep) from None
        except _MixedColumn as mixed:
            overrides[mixed.column] = pl.String
            notes.append(f"column {mixed.column!r} mixes numbers and text; read as text and left out of the "
                         "scale rules")
    raise PreflightError("too many columns mix numbers and text to read it", display)


class _MixedColumn(Exception):
    def __init__(self, column: str) -> None:
        self.column = column


def _retry_or_error(exc: Exception, overrides: dict[str, Dtype], path: Path, display: str,
                    sep: str) -> PreflightError:
    """Raise ``_MixedColumn`` when one column failed to parse as a number (read it as text and
    try again); else return the error to show."""
    column = _unparsable_column(str(exc))
    if column is not None and overrides.get(column) != pl.String:
        raise _MixedColumn(column)
    return csv_error(path, display, exc, sep)


def _text_head(lf: pl.LazyFrame, rows: int = 10_000) -> pl.DataFrame | None:
    """The first rows of the columns polars inferred as text (None when there are none)."""
    schema = lf.collect_schema()
    text = [n for n, t in schema.items() if t == pl.String]
    if not text:
        return None
    return lf.select(cs.by_name(text)).head(rows).collect()  # by_name: pl.col("^a.*$") is a regex


def _decimal_comma_columns(lf: pl.LazyFrame) -> list[str]:
    """Text columns whose values in the first rows are all numbers written with a decimal comma."""
    head = _text_head(lf)
    if head is None:
        return []
    out = []
    for name in head.columns:
        values = head.get_column(name).alias("value").drop_nulls().str.strip_chars()
        if len(values) and values.str.contains(r"^[+-]?\d+,\d+$").any() \
                and values.str.contains(r"^[+-]?\d+(,\d+)?$").all():
            out.append(name)
    return out


def _float_columns(lf: pl.LazyFrame, rows: int = 10_000) -> dict[str, Dtype]:
    """Text columns whose every value in the first rows parses as a float (nan, inf included)."""
    head = _text_head(lf, rows)
    if head is None:
        return {}
    text = head.columns
    out: dict[str, Dtype] = {}
    for name in text:
        col = head.get_column(name).alias("value")  # Series methods may run as pl.col(name): a regex
        present = col.len() - col.null_count()
        if present and col.cast(pl.Float64, strict=False).null_count() == col.null_count():
            out[name] = pl.Float64
    return out


def sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    sample = "\n".join(lines)
    if not any(d in sample for d in DELIMITERS[1:]):
        return ","  # all the sniffer could answer (it picks among DELIMITERS), without its ~1 ms a file
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = lines[0]
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def csv_error(path: Path, display: str, exc: Exception, sep: str) -> PreflightError:
    message = str(exc)
    if "more fields" in message or "ragged" in message.lower():  # check_records names the line first
        return PreflightError("has rows with more fields than the header (ragged rows)", display)
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return PreflightError(f"could not be read as CSV: {first}", display)


def _unparsable_column(message: str) -> str | None:
    # polars: "could not parse `x` as dtype `i64` at column 'a' (column number 1)"
    marker = "at column '"
    if "could not parse" not in message or marker not in message:
        return None
    start = message.index(marker) + len(marker)
    end = message.find("' (column number", start)
    return message[start:end] if end > start else None


def _duplicate_notes(names: list[str]) -> list[str]:
    dups = [n for n in names if "_duplicated_" in n]
    if not dups:
        return []
    return [f"duplicate column names: {', '.join(dups)} are later copies of a column with the same name"]


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    except IsADirectoryError:
        raise PreflightError("is a directory", str(path)) from None
    except OSError as exc:
        raise PreflightError(os_reason(exc), str(path)) from None


def _decode(head: bytes) -> tuple[str, bool]:
    try:
        return head.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the end of the sniffed block
            return head[: exc.start].decode("utf-8"), False
        return head.decode("utf-8", errors="replace"), True


# --- Parquet -------------------------------------------------------------------------------------

def read_parquet(path: Path, options: ReadOptions) -> TableSubject:
    display = str(path)
    _read_head(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PAR1":
        raise PreflightError("is not a Parquet file (no PAR1 magic bytes); is the file corrupt or misnamed?", display)
    with polars_path(path) as source:
        try:
            lf = pl.scan_parquet(source, glob=False)
            schema = lf.collect_schema()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise PreflightError(f"is not a readable Parquet file ({_one_line(exc)})", display) from None
        return scan_table(lf.collect_batches(chunk_size=BATCH_ROWS), schema, path=display, display=display,
                          options=options, on_error=lambda e: parquet_error(source, display, e))


def parquet_error(source: str, display: str, exc: Exception) -> PreflightError:
    """The error line for a Parquet file polars failed to read: the column whose type it cannot read,
    when the other columns read (a valid file with, say, a decimal256 column), else a corrupt file."""
    failing = []
    try:
        lf = pl.scan_parquet(source, glob=False)
        schema = lf.collect_schema()
        for name in schema.names():
            try:
                lf.select(cs.by_name(name)).head(1).collect()
            except (pl.exceptions.PolarsError, OSError, ValueError):
                failing.append(name)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        schema = pl.Schema()
    if failing and len(failing) < len(schema):
        name = failing[0]
        return PreflightError(f"has a column of a type preflight cannot read: {name!r} ({schema[name]}: "
                              f"{_one_line(exc)}); drop the column or cast it to a supported type", display)
    return PreflightError(f"is a corrupt Parquet file ({_one_line(exc)})", display)


# --- NumPy ----------------------------------------------------------------------------------------

def array_subject(X: np.ndarray, y: np.ndarray | None, *, display: str, path: str | None,
                  options: ReadOptions, label_name: str = "y",
                  feature_names: list[str] | None = None) -> TableSubject:
    """A 2-D array (and optional labels) as a table, read in row blocks."""
    X = np.asarray(X) if not isinstance(X, np.memmap) else X
    if X.dtype.names:  # structured array: fields are columns
        return _structured_subject(X, list(X.dtype.names), display=display, path=path, options=options)
    X = _table_array(X, y, display)
    names = feature_names or [f"x{i}" for i in range(X.shape[1])]
    if y is not None and label_name in names:
        label_name = label_name + "_label"
    schema_items = {n: _pl_dtype(X.dtype, display, "the features") for n in names}
    if y is not None:
        y = np.asarray(y).reshape(len(y), -1)[:, 0] if np.ndim(y) > 1 else np.asarray(y)
        schema_items[label_name] = _pl_dtype(y.dtype, display, "the labels")
    schema = pl.Schema(schema_items)
    target = options.target if options.target is not None else (label_name if y is not None else None)
    subject = scan_table(_array_blocks(X, y, names, label_name, schema), schema, path=path, display=display,
                         options=ReadOptions(target=target, task=options.task, task_source=options.task_source,
                                             on_rows=options.on_rows))
    if options.target is None and y is not None:
        subject.target_reason = f"the labels array {label_name!r} given with the features"
    return subject


def _structured_subject(X: np.ndarray, names: list[str], *, display: str, path: str | None,
                        options: ReadOptions) -> TableSubject:
    """A structured array (its fields ``names`` are the columns) as a table, read in row blocks."""
    if X.ndim != 1:
        raise PreflightError(f"holds a {X.ndim}-D structured array of shape {X.shape}; preflight reads a 1-D "
                             "structured array as a table (one row per element, one column per field)", display)
    for n in names:
        if X.dtype[n].shape or X.dtype[n].names:
            raise PreflightError(f"holds a structured array whose field {n!r} is itself an array ({X.dtype[n]}); "
                                 "preflight reads fields of one number or string each: split it into fields",
                                 display)
    schema = pl.Schema({n: _pl_dtype(X.dtype[n], display, f"field {n!r}") for n in names})
    blocks = (pl.DataFrame({n: np.asarray(X[n][i:i + BATCH_ROWS]) for n in names})
              for i in range(0, len(X), BATCH_ROWS))
    return scan_table(blocks, schema, path=path, display=display, options=options)


def _table_array(X: np.ndarray, y: np.ndarray | None, display: str) -> np.ndarray:
    """``X`` as a 2-D numeric array (a 1-D array is one column); refuse any other shape or dtype."""
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise PreflightError(f"holds a {X.ndim}-D array of shape {X.shape}; preflight checks 2-D tables "
                             "(rows x features)", display)
    if X.shape[1] > MAX_COLUMNS:
        raise too_many_columns(X.shape[1], display)
    if X.dtype.kind not in "biuf":
        raise PreflightError(f"holds a {X.dtype} array; preflight checks numeric arrays", display)
    if y is not None and np.ndim(y) == 0:
        raise PreflightError(f"has labels that are a single value (a 0-D array: {np.asarray(y)!r}); the labels "
                             "need one value per row of features", display)
    if y is not None and len(y) != len(X):
        raise PreflightError(f"has {len(X)} rows of features but {len(y)} labels", display)
    return X


def _array_blocks(X: np.ndarray, y: np.ndarray | None, names: list[str], label_name: str,
                  schema: pl.Schema) -> Iterator[pl.DataFrame]:
    """The rows of ``X`` (and the labels ``y``) as DataFrames of BATCH_ROWS rows."""
    for i in range(0, len(X), BATCH_ROWS):
        block = np.asarray(X[i:i + BATCH_ROWS])
        cols = {n: block[:, j] for j, n in enumerate(names)}
        if y is not None:
            cols[label_name] = y[i:i + BATCH_ROWS]
        yield pl.DataFrame(cols, schema=schema)


def _pl_dtype(dtype: np.dtype, display: str, what: str) -> Dtype:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return pl.Boolean
    if kind in "iu":
        return pl.Int64
    if kind == "f":
        return pl.Float64
    if kind in "US":
        return pl.String
    raise PreflightError(f"holds {what} as {dtype} values; preflight reads numbers, booleans and strings",
                         display)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


__all__ = ["read_csv", "read_parquet", "array_subject", "sniff_delimiter", "polars_path"]
