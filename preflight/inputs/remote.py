"""Data in an object store or behind a URL: ``s3://bucket/key``, ``s3://bucket/prefix/``,
``https://host/data.csv``.

S3 goes through pyarrow's own filesystem (``pyarrow.fs.FileSystem.from_uri``), which takes its
credentials where the vendor's tools do: the
``AWS_*`` variables (``AWS_ENDPOINT_URL`` for an S3-compatible server), ``~/.aws``, or an instance
role. pyarrow is imported only here, when a URL is checked (the ``s3`` extra). A key is a file;
a prefix is a folder, listed recursively, and its objects that preflight reads are checked in key
order (an object of another type is counted as skipped, as in a folder). An ``http(s)://`` URL is one
file, fetched with the standard library.

Each object is copied in chunks to a temporary file (the system's temporary folder, never beside
anything of the user's) and read there by the reader of its type, under its URL in every line, as
``preflight.inputs.compressed`` does for compressed files; the copy is removed after. Memory stays
that of the reader. Tests run against moto's S3 server (``tests/test_remote.py``). ``gs://`` is
refused with one line: pyarrow's GCS client retries for minutes where it cannot reach Google, and no
local server tests it here.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from preflight.errors import PreflightError
from preflight.inputs.compressed import compressed_suffix, read_copied
from preflight.version import DISTRIBUTION

STORES = ("s3://",)
NOT_YET = ("gs://", "gcs://", "az://", "abfs://")  # object stores not read yet: one clear line
WEB = ("https://", "http://")
PYARROW_INSTALL = f'pip install "{DISTRIBUTION}[s3]"'


class Remote(str):
    """A URL to check, kept as the text the user wrote (``Path`` would fold its ``//``)."""

    @property
    def name(self) -> str:
        return PurePosixPath(self.split("?", 1)[0].rstrip("/")).name

    @property
    def suffix(self) -> str:
        return compressed_suffix(self.name) or PurePosixPath(self.name).suffix.lower()


def is_remote(text: str) -> bool:
    lower = text.lower()
    return lower.startswith(STORES + WEB + NOT_YET)


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
    except (OSError, ValueError) as exc:
        raise PreflightError(f"cannot be opened ({_first_line(exc)})", url) from None


def expand_remote(url: str, readable: Callable[[str], bool]) -> tuple[list[Remote], int]:
    """The objects ``url`` names that ``readable`` accepts (a suffix test), and how many others a prefix
    held. A key that is not readable, or a prefix with nothing readable, is a ``PreflightError``."""
    if url.lower().startswith(NOT_YET):
        raise PreflightError("is in an object store preflight does not read yet (it reads s3:// and https://); "
                             "copy the data locally, or to S3", url)
    if url.lower().startswith(WEB):
        remote = Remote(url)
        if not readable(remote.suffix):
            raise PreflightError("does not name a file type preflight reads by its extension", url)
        return [remote], 0
    pafs = _pyarrow_fs(url)
    filesystem, path = _filesystem(url)
    scheme = url.split("://", 1)[0] + "://"
    try:
        info = filesystem.get_file_info(path)
        if info.type == pafs.FileType.File and not url.endswith("/"):
            remote = Remote(url)
            if not readable(remote.suffix):
                raise PreflightError("is not a file type preflight reads", url)
            return [remote], 0
        if info.type == pafs.FileType.NotFound and not url.endswith("/"):
            raise PreflightError("no such object or prefix (check the bucket, the key and the credentials)", url)
        listed = filesystem.get_file_info(pafs.FileSelector(path.rstrip("/"), recursive=True, allow_not_found=True))
    except OSError as exc:
        raise PreflightError(f"cannot be listed ({_first_line(exc)})", url) from None
    files = sorted(Remote(scheme + i.path) for i in listed if i.type == pafs.FileType.File)
    found = [f for f in files if readable(f.suffix)]
    if not files:
        raise PreflightError("holds no objects (no such prefix, or an empty one: check the bucket, the prefix and "
                             "the credentials)", url)
    if not found:
        raise PreflightError(f"holds no objects preflight reads ({len(files)} of other types)", url)
    return found, len(files) - len(found)


def read_remote(remote: Remote, options: Any, read_path: Callable[[Any, Any], Any]) -> Any:
    """The object at ``remote``, copied to a temporary file and read there by ``read_path`` (by its
    suffix); the subject and any error line name the URL."""
    suffix = remote.suffix or ".csv"
    if remote.lower().startswith(WEB):
        try:
            response = urllib.request.urlopen(str(remote), timeout=60)  # http(s) only: checked above
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise PreflightError(f"cannot be fetched ({_first_line(exc)})", remote) from None
        with response:
            return read_copied(response, str(remote), suffix, read_path, options, what="could not be fetched whole")
    filesystem, path = _filesystem(remote)
    try:
        stream = filesystem.open_input_stream(path)
    except OSError as exc:
        raise PreflightError(f"cannot be read ({_first_line(exc)})", remote) from None
    with stream:
        return read_copied(stream, str(remote), suffix, read_path, options, what="could not be read whole")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
