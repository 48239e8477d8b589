"""Input adapters: paths and live objects -> subjects the checks read.

``READERS`` maps a file suffix to its reader (``.csv.gz`` and the like: ``preflight.inputs.compressed``);
``expand`` turns the paths a user gave into the files to read (directories recursively, only supported
files, less those the ``exclude`` patterns and ``.gitignore`` files pass over, symlink loops cut; ``-``
is standard input).

The data-file readers import their module (and with it polars and numpy) only when a data file is
read, so a static check of ``.py`` files (a pre-commit hook) does not pay for them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from preflight.errors import PreflightError, os_reason
from preflight.inputs.compressed import (
    COMPRESSED_SUFFIXES,
    STDIN,
    STDIN_DEFAULT_NAME,
    compressed_suffix,
    read_compressed,
    read_stdin,
)
from preflight.inputs.ignore import DEFAULT_EXCLUDE, Ignores, Pattern, exclude_patterns, gitignores_above
from preflight.inputs.limits import over_size
from preflight.inputs.pysource import read_python, read_python_prefiltered
from preflight.inputs.remote import Remote, expand_remote, is_remote, read_remote
from preflight.inputs.subject import CodeSubject

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
    from preflight.inputs.numpy_files import read_numpy as read

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
# what an object store or a URL is read for: data, not code
REMOTE_SUFFIXES = frozenset(k for k in READERS if k not in (".py", ".pyw", ".ipynb")) | frozenset(COMPRESSED_SUFFIXES)



@dataclass
class Walk:
    """How a folder is walked: the ``exclude`` patterns and whether ``.gitignore`` files count (a path
    named itself is read whatever they say unless ``force_exclude``, as ruff); ``skipped`` counts the
    files met of a type preflight does not read, hidden ones aside (the summary line says how many)."""

    exclude: list[Pattern] = field(default_factory=lambda: exclude_patterns(DEFAULT_EXCLUDE, None))
    respect_gitignore: bool = True
    force_exclude: bool = False  # the exclude patterns (not .gitignore) apply to the paths named, too
    skipped: int = 0


def reader_for(path: Path) -> Reader | None:
    if compressed_suffix(path.name) is not None:
        return read_compressed
    return READERS.get(path.suffix.lower())


def supported() -> str:
    """The file types preflight reads, for an error line."""
    return ", ".join(sorted(READERS) + list(COMPRESSED_SUFFIXES))


def expand(paths: list[str | os.PathLike]) -> list[Path]:
    """The files to check, in a stable order; the first path that cannot be expanded raises."""
    return [p for p, _ in expand_walked(paths)]


def expand_walked(paths: list[str | os.PathLike]) -> list[tuple[Path, bool]]:
    """``expand``, each file with whether it was found by walking a folder (not named itself)."""
    out: list[tuple[Path, bool]] = []
    for item in expand_inputs(paths):
        if isinstance(item, PreflightError):
            raise item
        out.append(item)
    return out


def expand_inputs(paths: list[str | os.PathLike], walk: Walk | None = None) -> list[tuple[Path, bool] | PreflightError]:
    """The files to check, each with whether it was found by walking a folder, in a stable order; a
    path that cannot be checked (missing, unsupported, a named pipe, a folder with nothing to read or
    a subfolder that cannot be listed) is a ``PreflightError`` in its place, and the rest go on.
    ``walk``: the exclude patterns and gitignore choice (default: none and respected)."""
    walk = walk if walk is not None else Walk()
    out: list[tuple[Path, bool] | PreflightError] = []
    seen: set[str] = set()
    for raw in paths:
        if isinstance(raw, str) and is_remote(raw):  # s3://, gs://, https://: listed where it is
            out.extend(_remote_inputs(raw, walk, seen))
            continue
        p = Path(os.fsdecode(raw))
        if str(raw) == STDIN:  # standard input: read as --stdin-filename says (CSV by default)
            out.append((p, False))
            continue
        try:
            os.lstat(p)
        except OSError as exc:
            out.append(PreflightError(os_reason(exc), p))
            continue
        if walk.force_exclude and _excluded(p, walk):  # pre-commit passes every staged file: honour exclude
            continue
        walked = p.is_dir()
        errors: list[PreflightError] = []
        if walked:
            found = _walk(p, errors, walk)
            if not found and not errors:
                errors.append(PreflightError(f"holds no files preflight reads ({supported()})", p))
        elif p.is_file() or p.is_symlink():
            found = [p]
            if reader_for(p) is None:
                found = []
                errors.append(PreflightError("is not a file type preflight reads; supported: "
                                             f"{supported()}", p))
        else:
            found = []
            errors.append(PreflightError("is not a regular file (a named pipe, socket or device); not read", p))
        for f in found:
            key = os.path.normpath(f)
            if key not in seen:
                seen.add(key)
                out.append((f, walked))
        out.extend(errors)
    return out


def _walk(root: Path, errors: list[PreflightError], walk: Walk) -> list[Path]:
    """The readable files under ``root``, depth first in name order (as ``os.walk``, but with no
    recursion: a folder nested thousands deep is walked too), less those ``walk`` excludes. Symbolic
    links to folders are followed once (a loop is cut); a folder that cannot be listed is an error in
    ``errors``, the rest walked."""
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()
    top = Ignores(list(walk.exclude))
    if walk.respect_gitignore:
        for gitignore in gitignores_above(root):
            top = top.with_file(gitignore)
    stack = [(root, top)]
    while stack:
        folder, ignores = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in visited:  # a symlink loop: do not walk it again
                continue
            visited.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append(PreflightError(f"is a folder that {os_reason(exc)}; the files in it were not checked",
                                         folder))
            continue
        if walk.respect_gitignore and any(e.name == ".gitignore" for e in entries):
            ignores = ignores.with_file(folder / ".gitignore")
        subfolders = []
        for entry in entries:
            path = folder / entry.name
            is_dir = _is_dir(entry)
            if ignores.ignored(path, is_dir):
                continue
            if is_dir:
                subfolders.append((path, ignores))
            elif reader_for(path) is not None:
                found.append(path)
            elif not entry.name.startswith("."):  # a hidden file (.gitignore, .env) is no data file skipped
                walk.skipped += 1
        stack.extend(reversed(subfolders))
    return found


def _excluded(path: Path, walk: Walk) -> bool:
    """Whether an exclude pattern matches ``path`` or a folder above it (``force-exclude``)."""
    ignores = Ignores(list(walk.exclude))
    full = Path(os.path.abspath(path))
    return ignores.ignored(full, full.is_dir()) or any(ignores.ignored(parent, True) for parent in full.parents)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symbolic link
    except OSError:
        return False


def _bare_excluded(parts: list[str], patterns: list[Pattern]) -> bool:
    """Whether a bare-name exclude pattern (no ``/``: ``build``, ``*.tmp``) passes over a folder of
    ``parts`` (all but the last) or its last name, the last matching pattern deciding, as on disk."""
    bare = [p for p in patterns if p.basename]
    for i, name in enumerate(parts):
        is_dir = i < len(parts) - 1
        decided = False
        for p in bare:
            if (is_dir or not p.dir_only) and p.regex.fullmatch(name):
                decided = not p.negated
        if decided:
            return True
    return False


def _remote_inputs(url: str, walk: Walk, seen: set[str]) -> list[tuple[Path, bool] | PreflightError]:
    """The objects a URL names (``preflight.inputs.remote``), as inputs: a ``Remote`` stands where a
    ``Path`` does (the engine asks it for ``str()``, ``.name`` and ``.suffix`` only, and ``read_path``
    reads it)."""
    try:
        found, others = expand_remote(url, lambda suffix: suffix in REMOTE_SUFFIXES,
                                      lambda parts: _bare_excluded(parts, walk.exclude))
    except PreflightError as exc:
        return [exc]
    walk.skipped += others
    out: list[tuple[Path, bool] | PreflightError] = []
    for remote in found:
        if remote not in seen:
            seen.add(remote)
            out.append((cast(Path, remote), False))
    return out


def one_input(path: str) -> Path:
    """The one input of a command that takes one (``preflight probe``): a path, or one object's URL."""
    if not is_remote(path):
        return Path(path)
    items = expand_inputs([path])
    if len(items) != 1:
        raise PreflightError(f"names {len(items)} objects; the probe trains on one: name its key", path)
    if isinstance(items[0], PreflightError):
        raise items[0]
    return items[0][0]


def read_path(path: Path, options: ReadOptions) -> Any:
    if isinstance(path, Remote):
        return read_remote(path, options, read_path)
    if str(path) == STDIN:
        return _read_stdin(options)
    reader = reader_for(path)
    if reader is None:
        raise PreflightError("is not a file type preflight reads", path)
    return _read_with(reader, path, options)


def _read_stdin(options: ReadOptions) -> Any:
    """Standard input, read as the type of ``--stdin-filename`` (CSV when not given) under that name."""
    name = options.stdin_name
    if reader_for(Path(name or STDIN_DEFAULT_NAME)) is None:
        raise PreflightError(f"--stdin-filename {name!r} is not a file type preflight reads; name it like "
                             f"data.csv, train.py or data.csv.gz (supported: {supported()})")
    return read_stdin(name, options, read_path)


def read_walked(path: Path, options: ReadOptions) -> Any:
    """A file found by walking a folder: as ``read_path``, except that a ``.py`` file that cannot
    hold a finding (the cheap text test of ``pysource.might_hold_finding``) is not parsed, and one
    over its size limit (``preflight.inputs.limits``; a ``.py`` or ``.ipynb`` file) is skipped with a
    note rather than an error."""
    try:
        why = over_size(path, os.stat(path).st_size)
    except OSError:
        why = None  # the reader reports it
    if why is not None:
        return CodeSubject(path=str(path), display=str(path), source="", tree=None, lines=[],
                           notes=[why.replace("not read: exclude it from the check", "skipped")])
    if path.suffix.lower() in (".py", ".pyw"):
        return _read_with(read_python_prefiltered, path, options)
    return read_path(path, options)


def _read_with(reader: Reader, path: Path, options: ReadOptions) -> Any:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PreflightError(os_reason(exc), path) from None
    if not stat.S_ISREG(st.st_mode):  # a named pipe or a device would block or never end
        raise PreflightError("is not a regular file (a named pipe, socket or device); not read", path)
    why = over_size(path, st.st_size)
    if why is not None:
        raise PreflightError(why, path)
    try:
        return reader(path, options)
    except PreflightError:
        raise
    except RecursionError:
        raise PreflightError("is too deeply nested to read", path) from None
    except MemoryError:
        raise PreflightError("is too large to read in memory here", path) from None
    except OSError as exc:
        raise PreflightError(os_reason(exc), path) from None
    except (ValueError, UnicodeError) as exc:
        msg = str(exc).strip().splitlines()
        raise PreflightError(f"could not be read ({msg[0] if msg else type(exc).__name__})", path) from None
