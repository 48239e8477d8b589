"""Data in an object store or behind a URL: ``s3://bucket/key``, ``s3://bucket/prefix/``,
``https://host/data.csv``.

S3 goes through pyarrow's own filesystem (``pyarrow.fs.FileSystem.from_uri``), which takes its
credentials where AWS's tools do: the ``AWS_*`` variables (``AWS_ENDPOINT_URL`` for an
S3-compatible server), ``~/.aws``, or an instance role; options in the URL's query
(``?region=...&endpoint_override=...``) apply to everything listed under it. pyarrow is imported
only here, when a URL is checked (the ``s3`` extra). A URL is percent-encoded (a key with a space is
``my%20file.csv``); a key is a file; a prefix is a folder, listed recursively, and its objects that
preflight reads are checked in key order (others are counted as skipped, as in a folder, hidden ones
aside; see below for excludes). ``.gitignore`` files are for folders on disk and do not apply.
An ``http(s)://`` URL is one file, fetched with the standard library.

Each object is copied in chunks to a temporary file (the system's temporary folder, never beside
anything of the user's) and read there by the reader of its type, under its URL in every line, as
``preflight.inputs.compressed`` does for compressed files; the copy is removed after. Memory stays
that of the reader. Under a prefix, the bare-name exclude patterns (``build``, ``*.tmp``, and the
defaults such as ``.git``) pass over objects and sub-prefixes as they pass over files and folders on
disk; patterns with a ``/`` are anchored to a folder on disk and do not apply. A copy that ends
short of the size the server announced, or whose connection breaks, is an error, never a table of
the rows that arrived. Tests run against moto's S3 server (``tests/test_remote.py``). ``gs://`` is
refused with one line: pyarrow's GCS client retries for minutes where it cannot reach Google, and
no local server tests it here.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, BinaryIO, cast

from preflight.errors import PreflightError
from preflight.inputs.compressed import MAX_DECOMPRESSED_BYTES as MAX_BYTES  # the most copied to a temporary file
from preflight.inputs.compressed import compressed_suffix, read_copied
from preflight.urls import NOT_YET, WEB, is_remote, normalized
from preflight.version import DISTRIBUTION

__all__ = ["Remote", "expand_remote", "is_remote", "read_remote"]

PYARROW_INSTALL = f'pip install "{DISTRIBUTION}[s3]"'


class Remote(str):
    """A URL to check, kept as text (``Path`` would fold its ``//``). An object found by listing a prefix
    carries the listing's filesystem and its key, so that it is read where it was listed."""

    filesystem: Any = None
    key: str | None = None
    size: int | None = None

    @property
    def name(self) -> str:
        """The object's name: a listed key's own last part (a key may hold ``?`` or ``#``), else the URL's
        path without its query and fragment."""
        if self.key is not None:
            return PurePosixPath(self.key).name
        return PurePosixPath(self.split("?", 1)[0].split("#", 1)[0].rstrip("/")).name

    @property
    def suffix(self) -> str:
        return compressed_suffix(self.name) or PurePosixPath(self.name).suffix.lower()


def _pyarrow_fs(url: str) -> Any:
    try:
        from pyarrow import fs  # type: ignore[import-untyped]  # optional: only for URLs
    except ImportError:
        raise PreflightError(f"reading an object store needs pyarrow: {PYARROW_INSTALL}", url) from None
    return fs


def _filesystem(url: str) -> tuple[Any, str]:
    fs = _pyarrow_fs(url)
    try:
        return fs.FileSystem.from_uri(url)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError: a malformed URL
        raise PreflightError(f"cannot be opened ({_first_line(exc)})", url) from None


Excluded = Callable[[list[str]], bool]  # the parts of a key under its prefix -> whether it is passed over


def expand_remote(url: str, readable: Callable[[str], bool],
                  excluded: Excluded | None = None) -> tuple[list[Remote], int]:
    """The objects ``url`` names that ``readable`` accepts (a suffix test), and how many others a prefix
    held; under a prefix, an object ``excluded`` passes over is neither. A key that is not readable, or a
    prefix with nothing readable, is a ``PreflightError``."""
    url = normalized(url)
    if url.startswith(NOT_YET):
        raise PreflightError("is in an object store preflight does not read yet (it reads s3:// and https://); "
                             "copy the data locally, or to S3", url)
    if url.startswith(WEB):
        remote = Remote(url)
        if not readable(remote.suffix):
            raise PreflightError("does not name a file type preflight reads by its extension", url)
        return [remote], 0
    if not url.split("://", 1)[1].split("?", 1)[0].strip("/"):
        raise PreflightError("names no bucket; give s3://bucket/key or s3://bucket/prefix/", url)
    try:
        return _list(url, readable, excluded or (lambda parts: False))
    except (OSError, ValueError) as exc:
        raise PreflightError(f"cannot be listed ({_first_line(exc)})", url) from None


def _list(url: str, readable: Callable[[str], bool], excluded: Excluded) -> tuple[list[Remote], int]:
    pafs = _pyarrow_fs(url)
    filesystem, path = _filesystem(url)
    info = filesystem.get_file_info(path)
    if info.type == pafs.FileType.File and not url.split("?", 1)[0].endswith("/"):
        remote = _found(Remote(url), filesystem, path, info.size)
        if not readable(remote.suffix):
            raise PreflightError("is not a file type preflight reads (a prefix? end it with /)", url)
        return [remote], 0
    if info.type == pafs.FileType.NotFound and not url.split("?", 1)[0].endswith("/"):
        raise PreflightError("no such object or prefix (check the bucket, the key and the credentials)", url)
    listed = filesystem.get_file_info(pafs.FileSelector(path.rstrip("/"), recursive=True, allow_not_found=True))
    objects = sorted((i for i in listed if i.type == pafs.FileType.File), key=lambda i: i.path)
    if not objects:
        raise PreflightError("holds no objects (no such prefix, or an empty one: check the bucket, the prefix and "
                             "the credentials)", url)
    top = path.rstrip("/") + "/"
    found = [_found(Remote("s3://" + i.path), filesystem, i.path, i.size) for i in objects
             if not excluded(i.path.removeprefix(top).split("/"))]
    kept = [r for r in found if readable(r.suffix)]
    others = sum(1 for r in found if not readable(r.suffix) and not r.name.startswith("."))
    if not kept:
        raise PreflightError(f"holds no objects preflight reads ({len(found)} of other types)", url)
    return kept, others


def _found(remote: Remote, filesystem: Any, key: str, size: int | None) -> Remote:
    remote.filesystem, remote.key, remote.size = filesystem, key, size
    return remote


def read_remote(remote: Remote, options: Any, read_path: Callable[[Any, Any], Any]) -> Any:
    """The object at ``remote``, copied to a temporary file and read there by ``read_path`` (by its
    suffix); the subject and any error line name the URL."""
    suffix = remote.suffix or ".csv"
    if remote.startswith(WEB):
        try:
            response = urllib.request.urlopen(str(remote), timeout=60)  # http(s) only: checked above
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise PreflightError(f"cannot be fetched ({_first_line(exc)})", remote) from None
        with response:
            kind = response.headers.get_content_type()
            if kind == "text/html" and suffix not in (".html", ".htm"):
                raise PreflightError(f"answered with a web page (text/html, from {response.geturl()}), not the "
                                     "data file: is it a download link, or behind a login?", remote)
            length = response.headers.get("Content-Length")
            stream = _Whole(response, int(length) if length and length.isdigit() else None, remote)
            return read_copied(cast(BinaryIO, stream), str(remote), suffix, read_path, options,
                               what="could not be fetched whole")
    filesystem, key = remote.filesystem, remote.key
    if filesystem is None or key is None:
        filesystem, key = _filesystem(remote)
    try:
        size = remote.size if remote.size is not None else filesystem.get_file_info(key).size
        source = filesystem.open_input_stream(key, compression=None)  # the bytes as stored: no "detect"
    except (OSError, ValueError) as exc:
        raise PreflightError(f"cannot be read ({_first_line(exc)})", remote) from None
    with source:
        return read_copied(cast(BinaryIO, _Whole(source, size, remote)), str(remote), suffix, read_path, options,
                           what="could not be read whole")


class _Whole:
    """A source stream that ends in an error, not quietly, when it breaks or stops short of ``size``
    bytes; and that refuses to start an object over ``MAX_BYTES``."""

    def __init__(self, source: Any, size: int | None, url: str) -> None:
        if size is not None and size > MAX_BYTES:
            raise PreflightError(f"is {size / 2**30:.1f} GB, over the {MAX_BYTES >> 30} GB preflight copies to "
                                 "a temporary file to read; check a part of it", url)
        self.source, self.size, self.read_bytes = source, size, 0

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self.source.read(n)
        except OSError as exc:  # a connection reset, a timeout: the source's fault, not the copy's
            raise EOFError(f"the transfer broke after {self.read_bytes:,} bytes: {_first_line(exc)}") from None
        if not chunk and self.size is not None and self.read_bytes < self.size:
            raise EOFError(f"got {self.read_bytes:,} of {self.size:,} bytes")
        self.read_bytes += len(chunk)
        return bytes(chunk)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
