"""The probe cache: one JSON file per training, written atomically, a bad file read as a miss.

An entry holds what a training measured (``evidence.Measurements.to_json``: curves, failures,
lengths), not a verdict: the verdict is judged again on every read. Keys hash everything the
trainer sees (the exact arrays, the fix, the losses, the batch plan, the settings) and the
versions of the probe, preflight, torch and numpy (``run.training_key``), so a hit is the same
training; the rule is not part of the key, so rules whose probes train alike share one entry. The
directory is ``PREFLIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/preflight``, else ``~/.cache/preflight``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

SUBDIR = "probe-v2"  # v1 held whole evidence, verdict included


def cache_dir(override: str | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get("PREFLIGHT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "preflight"


def _path(key: str, override: str | None) -> Path:
    return cache_dir(override) / SUBDIR / key[:2] / f"{key}.json"


def get(key: str, override: str | None = None) -> dict[str, Any] | None:
    """The cached measurements for ``key``, or None (missing, unreadable, truncated or not ours)."""
    try:
        with open(_path(key, override), encoding="utf-8") as fh:
            entry = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("measurements"), dict):
        return None
    return entry["measurements"]


def put(key: str, measurements: dict[str, Any], override: str | None = None) -> bool:
    """Store ``measurements``; False (and no exception) when the cache cannot be written."""
    path = _path(key, override)
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
