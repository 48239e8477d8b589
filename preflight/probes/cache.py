"""The probe cache: one JSON file per training, written atomically, a bad file read as a miss.

An entry holds what a training measured (``evidence.Measurements.to_json``: curves, failures,
lengths), not a verdict: the verdict is judged again on every read. Keys hash everything the
trainer sees (the exact arrays, the fix, the losses, the batch plan, the settings) and the
versions of the probe, preflight, torch and numpy (``run.training_key``), so a hit is the same
training; the rule is not part of the key, so rules whose probes train alike share one entry. The
directory is ``PREFLIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/preflight``, else ``~/.cache/preflight``;
with no home at all (``HOME`` unset and no passwd entry, as in ``docker run --user 4242``) there is
no cache: every probe trains, nothing is written.

An entry is read only when it is a regular file (opened with ``O_NOFOLLOW | O_NONBLOCK``, so a link
to ``/dev/zero`` or a FIFO planted in the cache is neither read without end nor waited on) of at
most ``MAX_ENTRY_BYTES``; anything else is a miss, and the entry written after the training
replaces it (a rename replaces the link or FIFO itself, never what it points to).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

SUBDIR = "probe-v2"  # v1 held whole evidence, verdict included
MAX_ENTRY_BYTES = 8 << 20  # an entry is curves for a few seeds: tens of KB; a larger file is not ours
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def cache_dir(override: str | None = None) -> Path | None:
    """The cache directory, or None when there is none to use (no home directory to put it in)."""
    if override:
        return Path(override)
    env = os.environ.get("PREFLIGHT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "preflight"
    try:
        return Path.home() / ".cache" / "preflight"
    except (RuntimeError, KeyError, OSError):  # HOME unset and no passwd entry for this uid
        return None


def _path(key: str, override: str | None) -> Path | None:
    root = cache_dir(override)
    return None if root is None else root / SUBDIR / key[:2] / f"{key}.json"


def _read_entry(path: Path) -> bytes | None:
    """The bytes of a regular file of at most ``MAX_ENTRY_BYTES``, else None (a link, FIFO, device, folder)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            return None
        data = fh.read(MAX_ENTRY_BYTES + 1)
    return data if len(data) <= MAX_ENTRY_BYTES else None


def get(key: str, override: str | None = None) -> dict[str, Any] | None:
    """The cached measurements for ``key``, or None (missing, unreadable, truncated, not a regular
    file, too large, or not ours)."""
    path = _path(key, override)
    try:
        data = None if path is None else _read_entry(path)
        entry = None if data is None else json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("measurements"), dict):
        return None
    return entry["measurements"]


def put(key: str, measurements: dict[str, Any], override: str | None = None) -> bool:
    """Store ``measurements``; False (and no exception) when the cache cannot be written."""
    path = _path(key, override)
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "measurements": measurements}, fh, allow_nan=False)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, ValueError, TypeError):
        return False
    return True
