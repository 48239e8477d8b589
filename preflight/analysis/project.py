"""Several files read as one project: imports of modules found in the checked tree are resolved to
their files, and each file is parsed and walked once (never imported, never run).

A module's flow names its classes and functions with a tag of its own (``~3:Net``), so the values
one module imports from another (``Val(ctor="~3:Net")``) find their definitions through
``Table``: its own keys directly, another module's through the flow it was imported from.

Resolution follows Python's rules for a script run from its folder: ``from models import Net`` is
looked up in the importing file's folder and then in each folder above it that is a package (has
an ``__init__.py``) and the folder holding the top package (unless that is ``site-packages``: the
installed environment is not the project); ``from .models import Net`` relative to the file's
package. A module that is not found is what it was before: a qualified name.

Flows are kept in a bounded cache keyed by the file's path, modification time and size, so a file
both checked and imported by another is walked once; a cycle of imports stops where it closes
(the names imported there are unknown), and a tree of any size is walked once per file.
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
from collections import OrderedDict
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any, Generic, TypeVar

from preflight.analysis.names import TORCH_ROOTS
from preflight.analysis.parsing import parse

MODULE_REF = "\u00a7"  # ``Val(qual="§/abs/path/models.py")``: a module of the project
MAX_SOURCE_BYTES = 2_000_000  # larger files are not followed as imports
MAX_CACHED = 2048
MAX_PACKAGE_DEPTH = 12
ENVIRONMENT_DIRS = frozenset({"site-packages", "dist-packages"})

V = TypeVar("V")


class Table(dict[str, V], Generic[V]):
    """A flow's classes or functions by key: its own, then those of the modules it imported
    (found by the key's tag through ``deps``)."""

    def __init__(self, deps: dict[str, Any], which: str) -> None:
        super().__init__()
        self.deps = deps
        self.which = which

    def _foreign(self, key: str) -> V | None:
        if not key.startswith("~"):
            return None
        dep = self.deps.get(key.split(":", 1)[0] + ":")
        if dep is None:
            return None
        table = getattr(dep, self.which)
        return dict.get(table, key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        found = dict.get(self, key)
        if found is None:
            found = self._foreign(key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (isinstance(key, str) and self._foreign(key) is not None)

    def __missing__(self, key: str) -> V:
        found = self._foreign(key)
        if found is None:
            raise KeyError(key)
        return found


_tags = count(1)


def new_tag() -> str:
    return f"~{next(_tags)}:"


_RESOLVED: dict[tuple[str, str, int], str | None] = {}


def resolve_module(importer: Path | None, module: str | None, level: int) -> str | None:
    """The file (or namespace folder) an import names, inside the importer's project; None if none."""
    if importer is None or (not module and not level):
        return None
    key = (str(importer.parent), module or "", level)
    if key in _RESOLVED:
        return _RESOLVED[key]
    parts = module.split(".") if module else []
    found: str | None = None
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        found = _find(base, parts)
    elif parts[0] not in TORCH_ROOTS:
        for root in import_roots(importer):
            found = _find(root, parts)
            if found is not None:
                break
    if len(_RESOLVED) > 65536:
        _RESOLVED.clear()
    _RESOLVED[key] = found
    return found


def import_roots(importer: Path) -> list[Path]:
    """The importing file's folder, then each package folder above it and the folder above the top one."""
    d = importer.parent
    roots = [d]
    for _ in range(MAX_PACKAGE_DEPTH):
        if not (d / "__init__.py").is_file() or d.parent == d:
            break
        d = d.parent
        roots.append(d)
    # an installed package's neighbours are the environment, not the project: never followed
    return [r for r in roots if r.name not in ENVIRONMENT_DIRS]


def _find(base: Path, parts: list[str]) -> str | None:
    p = base.joinpath(*parts) if parts else base
    if parts and p.with_name(p.name + ".py").is_file():
        return os.path.abspath(p.with_name(p.name + ".py"))
    if (p / "__init__.py").is_file():
        return os.path.abspath(p / "__init__.py")
    if parts and p.is_dir():
        return os.path.abspath(p)  # a namespace package: its submodules resolve
    return None


def submodule(ref: str, name: str) -> str | None:
    """``models`` (a package's ``__init__.py`` or a folder) and ``gan`` -> the file of ``models.gan``."""
    p = Path(ref)
    folder = p.parent if p.name == "__init__.py" else p
    if not folder.is_dir():
        return None
    return _find(folder, [name])


class ModuleCache:
    """Flows by file, each built once while its file is unchanged (path, mtime, size)."""

    def __init__(self) -> None:
        self._flows: OrderedDict[str, tuple[tuple[int, int], Any]] = OrderedDict()
        self._busy: set[str] = set()

    def stamp(self, path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def get(self, path: str, build: Callable[[ast.Module], Any], tree: ast.Module | None = None) -> Any:
        """The flow of ``path`` (built by ``build(tree)`` when not cached); None inside a cycle or on error."""
        stamp = self.stamp(path)
        if stamp is None:
            return None
        known = self._flows.get(path)
        if known is not None and known[0] == stamp:
            self._flows.move_to_end(path)
            return known[1]
        if path in self._busy:
            return None
        if tree is None:
            tree = parse_file(path, stamp[1])
            if tree is None:
                return None
        self._busy.add(path)
        try:
            flow = build(tree)
        except RecursionError:
            flow = None
        finally:
            self._busy.discard(path)
        self._flows[path] = (stamp, flow)
        while len(self._flows) > MAX_CACHED:
            self._flows.popitem(last=False)
        return flow

    def clear(self) -> None:
        self._flows.clear()

    def forget(self, path: str) -> None:
        """Drop ``path``'s flow (its text is being read as something other than what is on disk)."""
        self._flows.pop(os.path.abspath(path), None)


def parse_file(path: str, size: int) -> ast.Module | None:
    """Parse an imported file quietly; None when it cannot be read as Python (it is not followed)."""
    if size > MAX_SOURCE_BYTES or not path.endswith(".py"):
        return None
    try:
        data = Path(path).read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return parse(data.decode(encoding).lstrip("\ufeff"), path)
    except (OSError, SyntaxError, UnicodeError, ValueError, LookupError, RecursionError, MemoryError):
        return None


MODULES = ModuleCache()
