"""Which files a folder's walk passes over: ``.gitignore`` files and ``exclude`` patterns, with git's rules.

The subset of gitignore semantics implemented here (``tests/test_ignore.py`` checks it against the
``pathspec`` package with hypothesis): blank lines and ``#`` comments, ``\\`` escapes, ``!`` negation
(the last matching pattern wins), a trailing ``/`` for folders only, a pattern holding a ``/`` (a leading
one included) anchored at its file's folder and one without it matched at any depth, ``**`` (leading,
trailing and between slashes), ``*``, ``?`` and character classes (``[a-z]``, ``[!0-9]``). As git, a
file inside an ignored folder cannot be re-included (the walk does not enter the folder). Not read:
the user's global excludes file and ``.git/info/exclude``.

The walk asks ``Ignores.ignored(path, is_dir)`` of each entry; a ``.gitignore`` in a folder applies to
that folder's tree, after the ones above it (up to the repository root, the folder holding ``.git``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Folders and files a walk passes over unless ``exclude`` replaces the list (ruff's defaults, and the
# caches and checkpoints preflight skipped before); gitignore-style patterns, as ``exclude`` takes them.
DEFAULT_EXCLUDE = (".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
                   ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
                   ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
                   "node_modules", "site-packages", "venv", "*.egg-info")


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]  # matched against the path relative to ``base`` (posix, no leading slash)
    base: str  # the folder the pattern is relative to, as a posix path ("" for a relative root)
    negated: bool
    dir_only: bool
    basename: bool = False  # a pattern with no "/": matched against the last name of the path only


def _class(pattern: str, i: int) -> tuple[str, int] | None:
    """A ``[...]`` class starting at ``pattern[i]`` as a regex class and the index after it; None if unclosed."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    end = pattern.find("]", j)
    if end < 0:
        return None
    body = pattern[i + 1:end]
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
    return ("[^/" if negate else "[") + body + "]", end + 1


def _translate(glob: str) -> str:
    """A gitignore glob (no leading ``/``, no trailing ``/``) as a regular expression over a relative path."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**", i) and (i == 0 or glob[i - 1] == "/") and (i + 2 == n or glob[i + 2] == "/"):
            if i + 2 == n:  # "a/**": everything inside a
                out.append(".+" if i else ".*")
            else:  # "**/" : zero or more folders
                out.append("(?:.*/)?")
                i += 1
            i += 2
            continue
        if c == "*":
            while i < n and glob[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[" and (klass := _class(glob, i)) is not None:
            out.append(klass[0])
            i = klass[1]
            continue
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_line(line: str, base: str = "") -> Pattern | None:
    """One ``.gitignore`` line as a ``Pattern``, or None for a blank line or a comment."""
    line = line.rstrip("\n").rstrip("\r")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/") if dir_only else line
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    return Pattern(re.compile(f"(?s:{_translate(line)})"), base, negated, dir_only, basename=not anchored)


def read_patterns(text: str, base: str = "") -> list[Pattern]:
    return [p for p in (compile_line(line, base) for line in text.splitlines()) if p is not None]


@dataclass
class Ignores:
    """The patterns in force: ``exclude`` patterns first, then ``.gitignore`` files from the top down."""

    patterns: list[Pattern] = field(default_factory=list)
    # runs of patterns with the same folder, sign and kind, as one regular expression each (the same
    # decisions: within a run any match decides alike, and runs keep their order)
    groups: list[Pattern] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.groups = _merged(self.patterns)

    def ignored(self, path: Path | str, is_dir: bool) -> bool:
        """Whether ``path`` (absolute, or relative to the current directory) is passed over: the last
        pattern that matches it decides (a ``!`` pattern keeps it)."""
        posix = _posix(path)
        name = posix.rpartition("/")[2]
        decided = False
        for p in self.groups:
            if p.dir_only and not is_dir:
                continue
            rel = _under(posix, p.base)
            if rel is not None and p.regex.fullmatch(name if p.basename else rel):
                decided = not p.negated
        return decided

    def with_file(self, gitignore: Path) -> Ignores:
        """These patterns and those of ``gitignore`` (a file that cannot be read adds nothing)."""
        try:
            text = gitignore.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self
        added = read_patterns(text, _posix(gitignore.parent))
        return Ignores(self.patterns + added) if added else self


def _merged(patterns: list[Pattern]) -> list[Pattern]:
    out: list[Pattern] = []
    runs: list[list[Pattern]] = []
    for p in patterns:
        if runs and _kind(runs[-1][0]) == _kind(p):
            runs[-1].append(p)
        else:
            runs.append([p])
    for run in runs:
        regex = run[0].regex if len(run) == 1 else re.compile("|".join(f"(?:{p.regex.pattern})" for p in run))
        out.append(Pattern(regex, run[0].base, run[0].negated, run[0].dir_only, run[0].basename))
    return out


def _kind(p: Pattern) -> tuple[str, bool, bool, bool]:
    return p.base, p.negated, p.dir_only, p.basename


def exclude_patterns(patterns: Iterable[str], root: Path | None) -> list[Pattern]:
    """``exclude`` patterns (gitignore syntax), relative to ``root`` (the config's folder, or the current one)."""
    base = _posix(root) if root is not None else _posix(Path.cwd())
    out = []
    for raw in patterns:
        anchored = "/" in raw.strip().rstrip("/")  # a bare name (".venv", "*.egg-info") matches anywhere
        p = compile_line(raw, base if anchored else "")
        if p is not None:
            out.append(p)
    return out


def gitignores_above(folder: Path) -> list[Path]:
    """The ``.gitignore`` files of ``folder``'s parents up to the repository root (the first holding
    ``.git``), top down; none when ``folder`` is not inside a repository."""
    here = Path(os.path.abspath(folder))
    chain: list[Path] = []
    for parent in here.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            return [p / ".gitignore" for p in reversed(chain) if (p / ".gitignore").is_file()]
    return []


def _posix(path: Path | str) -> str:
    return Path(os.path.abspath(path)).as_posix().rstrip("/")


def _under(path: str, base: str) -> str | None:
    if not base or base == "/":
        return path.lstrip("/")
    if path.startswith(base + "/"):
        return path[len(base) + 1:]
    return None
