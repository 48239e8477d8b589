"""Input adapters: paths and live objects -> subjects the checks read.

``READERS`` maps a file suffix to its reader; ``expand`` turns the paths a user gave into the
files to read (directories recursively, only supported files, symlink loops cut).

The data-file readers import their module (and with it polars and numpy) only when a data file is
read, so a static check of ``.py`` files (a pre-commit hook) does not pay for them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.errors import PreflightError
from preflight.inputs.pysource import read_python, read_python_prefiltered

if TYPE_CHECKING:
    from preflight.inputs.options import ReadOptions

Reader = Callable[[Path, "ReadOptions"], Any]


def read_csv(path: Path, options: ReadOptions) -> Any:
    from preflight.inputs.files import read_csv as read

    return read(path, options)


def read_parquet(path: Path, options: ReadOptions) -> Any:
    from preflight.inputs.files import read_parquet as read

    return read(path, options)


def read_numpy(path: Path, options: ReadOptions) -> Any:
    from preflight.inputs.files import read_numpy as read

    return read(path, options)


def read_ipynb(path: Path, options: ReadOptions) -> Any:
    """Jupyter notebooks: the code cells read as one module (``preflight.inputs.notebook``)."""
    from preflight.inputs.notebook import read_notebook

    return read_notebook(path, options)


READERS: dict[str, Reader] = {
    ".csv": read_csv,
    ".tsv": read_csv,
    ".parquet": read_parquet,
    ".pq": read_parquet,
    ".npy": read_numpy,
    ".npz": read_numpy,
    ".py": read_python,
    ".pyw": read_python,
    ".ipynb": read_ipynb,
}

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox", ".mypy_cache",
             ".pytest_cache", ".ruff_cache", "site-packages",
             ".ipynb_checkpoints"}


def reader_for(path: Path) -> Reader | None:
    return READERS.get(path.suffix.lower())


def expand(paths: list[str | os.PathLike]) -> list[Path]:
    """The files to check, in a stable order. A missing path is an error; a directory is walked."""
    return [p for p, _ in expand_walked(paths)]


def expand_walked(paths: list[str | os.PathLike]) -> list[tuple[Path, bool]]:
    """``expand``, each file with whether it was found by walking a folder (not named itself)."""
    out: list[tuple[Path, bool]] = []
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not os.path.lexists(p):
            raise PreflightError("no such file or directory", p)
        walked = p.is_dir()
        if walked:
            found = _walk(p)
            if not found:
                raise PreflightError(f"holds no files preflight reads ({', '.join(sorted(READERS))})", p)
        elif p.is_file() or p.is_symlink():
            if reader_for(p) is None:
                raise PreflightError(f"is not a file type preflight reads; supported: {', '.join(sorted(READERS))}", p)
            found = [p]
        else:
            raise PreflightError("is not a regular file", p)
        for f in found:
            key = os.path.normpath(f)
            if key not in seen:
                seen.add(key)
                out.append((f, walked))
    return out


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop: do not walk it again
            dirnames[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            f = Path(dirpath) / name
            if reader_for(f) is not None:
                found.append(f)
    return found


def read_path(path: Path, options: ReadOptions) -> Any:
    reader = reader_for(path)
    if reader is None:
        raise PreflightError("is not a file type preflight reads", path)
    return _read_with(reader, path, options)


def read_walked(path: Path, options: ReadOptions) -> Any:
    """A file found by walking a folder: as ``read_path``, except that a ``.py`` file that cannot
    hold a finding (the cheap text test of ``pysource.might_hold_finding``) is not parsed."""
    if path.suffix.lower() in (".py", ".pyw"):
        return _read_with(read_python_prefiltered, path, options)
    return read_path(path, options)


def _read_with(reader: Reader, path: Path, options: ReadOptions) -> Any:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise PreflightError(f"cannot be read ({exc.strerror or exc})", path) from None
    if not stat.S_ISREG(mode):  # a named pipe or a device would block or never end
        raise PreflightError("is not a regular file (a named pipe, socket or device); not read", path)
    try:
        return reader(path, options)
    except PreflightError:
        raise
    except RecursionError:
        raise PreflightError("is too deeply nested to read", path) from None
    except MemoryError:
        raise PreflightError("is too large to read in memory here", path) from None
    except (OSError, ValueError, UnicodeError) as exc:
        msg = str(exc).strip().splitlines()
        raise PreflightError(f"could not be read ({msg[0] if msg else type(exc).__name__})", path) from None
