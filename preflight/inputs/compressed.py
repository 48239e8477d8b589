"""Compressed CSV (``.csv.gz``, ``.csv.bz2``, ``.csv.zst``, the same for ``.tsv``) and standard input.

polars' streaming CSV scan does not read compressed input (its ``read_csv`` decompresses the whole
file into memory first), so the file is decompressed here, 1 MB at a time, into a temporary file in
the system's temporary folder (``TMPDIR``; never beside the input), read there by the CSV reader with
the input's own name in every line, and removed. Memory stays constant; the temporary file is bounded
by ``MAX_DECOMPRESSED_BYTES``. zstd needs the optional ``zstandard`` package (the ``zstd`` extra),
imported only when a ``.zst`` file is read.

Standard input (``-``) is copied the same way (its type and name from ``--stdin-filename``, CSV by
default); Python source and notebooks from standard input are parsed from memory (within their size
limits), never imported.
"""

from __future__ import annotations

import bz2
import gzip
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, BinaryIO

from preflight.errors import PreflightError
from preflight.inputs.limits import SIZE_LIMITS, mb, over_size

Reader = Callable[[Path, Any], Any]
CHUNK = 1 << 20
MAX_DECOMPRESSED_BYTES = 64 << 30
COMPRESSIONS = (".gz", ".bz2", ".zst")
COMPRESSED_SUFFIXES = tuple(f"{t}{c}" for t in (".csv", ".tsv") for c in COMPRESSIONS)
FORMAT_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".zst": "zstd"}
STDIN = "-"
STDIN_DEFAULT_NAME = "stdin.csv"


def compressed_suffix(name: str) -> str | None:
    """``.csv.gz`` for ``data.CSV.GZ``; None when ``name`` is no compressed table preflight reads."""
    lower = name.lower()
    return next((s for s in COMPRESSED_SUFFIXES if lower.endswith(s)), None)


def _zstd_open(source: Any) -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]  # the optional zstd extra
    except ImportError:
        raise PreflightError("is zstd-compressed, which needs the zstandard package: "
                             "pip install zstandard (or decompress it: zstd -d)", str(source)) from None
    raw = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115 - the reader closes it
    return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)


def _gzip_open(source: Any) -> Any:
    return gzip.open(source, "rb")


def _bz2_open(source: Any) -> Any:
    return bz2.open(source, "rb")


# compression suffix -> opener of a path or a binary stream, giving the decompressed bytes
OPENERS: dict[str, Callable[[Any], Any]] = {".gz": _gzip_open, ".bz2": _bz2_open, ".zst": _zstd_open}


def read_compressed(path: Path, options: Any) -> Any:
    """The reader for ``.csv.gz`` and the like: decompressed in a stream to a temporary file, read there."""
    from preflight.inputs.files import read_csv

    suffix = compressed_suffix(path.name) or ".csv.gz"
    compression = suffix[4:]
    try:
        source = OPENERS[compression](path)
    except OSError as exc:
        raise PreflightError(f"cannot be read ({exc.strerror or exc})", path) from None
    with source:
        return read_copied(source, str(path), suffix[:4], read_csv, options,
                           what=f"is not valid {FORMAT_NAMES[compression]} data, or is cut short")


def read_copied(source: BinaryIO | IO[bytes], display: str, suffix: str, reader: Reader, options: Any,
                what: str) -> Any:
    """Copy ``source`` to a temporary ``input<suffix>`` file in chunks and read it with ``reader``; the
    subject and any error line name ``display``, not the temporary file."""
    with tempfile.TemporaryDirectory(prefix="preflight-") as tmp:
        copy = Path(tmp) / f"input{suffix}"
        _copy(source, copy, display, what)
        try:
            subject = reader(copy, options)
        except PreflightError as exc:
            raise PreflightError(exc.format_message().replace(str(copy), display)) from None
    return replace(subject, path=display, display=display)


def _copy(source: BinaryIO | IO[bytes], copy: Path, display: str, what: str) -> None:
    written = 0
    try:
        with open(copy, "wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > MAX_DECOMPRESSED_BYTES:
                    raise PreflightError(f"decompresses to more than {MAX_DECOMPRESSED_BYTES >> 30} GB, over what "
                                         "preflight copies to a temporary file; check a sample of it", display)
                out.write(chunk)
    except (EOFError, gzip.BadGzipFile, ValueError) as exc:
        raise PreflightError(f"{what} ({str(exc).strip() or type(exc).__name__})", display) from None
    except OSError as exc:
        if getattr(exc, "errno", None) is None:  # a decompressor's error on corrupt data
            raise PreflightError(f"{what} ({exc})", display) from None
        raise PreflightError(f"could not be copied to a temporary file in {copy.parent.parent} "
                             f"({exc.strerror or exc}; set TMPDIR to a folder with room)", display) from None
    except Exception as exc:  # zstandard.ZstdError and the like: corrupt compressed data
        if isinstance(exc, PreflightError):
            raise
        raise PreflightError(f"{what} ({exc})", display) from None


def read_stdin(name: str | None, options: Any, read_path: Reader) -> Any:
    """Standard input, read as the type of ``name`` (``--stdin-filename``; CSV when not given, a type
    the caller checked) and reported under that name (``-`` when not given); ``read_path`` reads the
    temporary copy by its suffix."""
    display = name or STDIN
    given = Path(name or STDIN_DEFAULT_NAME)
    suffix = compressed_suffix(given.name) or given.suffix.lower()
    stream = sys.stdin.buffer
    if suffix in SIZE_LIMITS:  # code: parsed from memory, within the size limit of its type
        data = stream.read(SIZE_LIMITS[suffix][0] + 1)
        too_big = over_size(given, len(data))
        if too_big is not None:
            too_big = too_big.replace(f"is {mb(len(data))}, over the", "is over the", 1)  # only the limit was read
            raise PreflightError(too_big.replace("exclude it from the check", "check a smaller input"), display)
        if suffix == ".ipynb":
            from preflight.inputs.notebook import notebook_subject

            return notebook_subject(data, display=display, path=None)
        from preflight.inputs.pysource import code_subject

        return code_subject(data, display=display, path=None)
    if suffix in COMPRESSED_SUFFIXES:
        from preflight.inputs.files import read_csv

        return read_copied(OPENERS[suffix[4:]](stream), display, suffix[:4], read_csv, options,
                           what=f"is not valid {FORMAT_NAMES[suffix[4:]]} data, or is cut short")
    return read_copied(stream, display, suffix, read_path, options, what="could not be read")


__all__ = ["read_compressed", "read_stdin", "compressed_suffix", "COMPRESSED_SUFFIXES", "STDIN"]
