"""``preflight check --fix`` / ``--diff``: apply the code findings' fixes to ``.py`` files and notebooks.

Each file is fixed on its own, and only when the fixed text passes every check: it still parses,
the findings fixed are gone and no new one appeared (the rules run again on the fixed text, with
the project around it), and fixing it again changes nothing. A file that fails keeps its bytes and
the reason is reported. Data files are never touched. Writing is atomic (a temporary file in the
same folder, then a rename) and keeps the file's mode, encoding, byte-order mark and line endings
(the edits replace spans of text; nothing else is rewritten).
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import tempfile
import tokenize
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight.errors import PreflightError
from preflight.fixing.edits import apply_edits

FIXABLE_SUFFIXES = (".py", ".ipynb")


@dataclass
class FileFix:
    """What fixing one file did (or would do)."""

    display: str
    before: str = ""
    after: str = ""
    fixed: int = 0  # findings fixed
    hidden: int = 0  # unsafe fixes left unapplied (no --unsafe-fixes)
    failure: str = ""  # why the fix was not applied (the file is unchanged)

    @property
    def changed(self) -> bool:
        return not self.failure and self.after != self.before

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                                            f"a/{self.display}", f"b/{self.display}"))


@dataclass
class FixRun:
    files: list[FileFix] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(f.fixed for f in self.files if f.changed)

    @property
    def hidden(self) -> int:
        return sum(f.hidden for f in self.files)


def fix_paths(paths: Sequence[str], config: Any, *, write: bool, unsafe: bool) -> FixRun:
    """Fix (``write``) or compute the fixes of the ``.py`` and ``.ipynb`` files among ``paths``."""
    from preflight.engine import walk_for
    from preflight.inputs import expand_inputs

    run = FixRun()
    for item in expand_inputs(list(paths), walk_for(config)):
        if isinstance(item, PreflightError):
            run.errors.append(str(item))
            continue
        path = item[0]
        if not path.name.endswith(FIXABLE_SUFFIXES):
            continue
        try:
            result = fix_notebook(path, config, unsafe) if path.suffix == ".ipynb" else fix_file(path, config, unsafe)
        except PreflightError as exc:
            run.errors.append(str(exc))
            continue
        if write and result.changed and (path.is_symlink() or path.stat().st_nlink > 1):
            result.failure = ("is a symbolic link or has other hard links, which a rewrite by rename would "
                              "break; fix the file it points to")
        if write and result.changed:
            write_atomic(path, result.after.encode(result_encoding(path)) if path.suffix != ".ipynb"
                         else result.after.encode("utf-8"))
        run.files.append(result)
    return run


def result_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        encoding, _ = tokenize.detect_encoding(fh.readline)
    return encoding  # "utf-8-sig" keeps a byte-order mark


def _findings(text: str, display: str, path: Path, config: Any) -> tuple[Any, list[Any]]:
    """The findings of ``text`` read as the file at ``path``, with the project around it."""
    from preflight.engine import rule_findings
    from preflight.inputs.pysource import code_subject

    with _not_cached(path):
        subject = code_subject(text, display, path=str(path), project=True)
        return subject, rule_findings(subject, config)


@contextmanager
def _not_cached(path: Path) -> Iterator[None]:
    """The project's flow cache is keyed by the file on disk: a text read as that file must neither be
    served the flow of the text on disk nor leave its own behind."""
    from preflight.analysis.flow import MODULES

    MODULES.forget(str(path))
    try:
        yield
    finally:
        MODULES.forget(str(path))


def _chosen(findings: list[Any], unsafe: bool) -> list[Any]:
    return [f for f in findings if f.autofix is not None and (f.autofix.safe or unsafe)]


def fix_text(text: str, display: str, path: Path, config: Any, unsafe: bool,
             reread: Any = None) -> FileFix:
    """The fixed text of one module, checked; ``reread(text)`` gives the findings of a fixed text
    (by default the module's own rules, with the project around it)."""
    reread = reread or (lambda t: _findings(t, display, path, config)[1])
    result = FileFix(display, before=text, after=text)
    findings = reread(text)
    chosen = _chosen(findings, unsafe)
    result.hidden = sum(1 for f in findings if f.autofix is not None and not f.autofix.safe and not unsafe)
    if not chosen:
        return result
    fixed = apply_edits(text, [e for f in chosen for e in f.autofix.edits])
    try:
        after = reread(fixed)
    except PreflightError as exc:
        result.failure = f"the fixed text would not be read back ({exc}); nothing was changed"
        return result
    before, now = Counter(f.code for f in findings), Counter(f.code for f in after)
    gone = Counter(f.code for f in chosen)
    grown = sorted(code for code in now if now[code] > before[code] - gone[code])
    if grown:
        result.failure = f"the fix would leave or add {', '.join(grown)}; nothing was changed"
        return result
    again = _chosen(after, unsafe)
    if again and apply_edits(fixed, [e for f in again for e in f.autofix.edits]) != fixed:
        result.failure = "a second fix would change the file again; nothing was changed"
        return result
    result.after, result.fixed = fixed, len(chosen)
    return result


def fix_file(path: Path, config: Any, unsafe: bool) -> FileFix:
    from preflight.inputs.pysource import decode_source

    display = str(path)
    text = decode_source(path.read_bytes(), display)
    return fix_text(text, display, path, config, unsafe)


def fix_notebook(path: Path, config: Any, unsafe: bool) -> FileFix:
    """A notebook: the code cells joined as the reader joins them, fixed as one module, and each
    changed line written back into its cell. A fix that would remove or add a line (an
    ``nn.Sigmoid()`` on a line of its own) is not applied to a notebook; the reason says so."""
    from copy import deepcopy

    from preflight.engine import rule_findings
    from preflight.inputs.notebook import notebook_subject

    display = str(path)
    raw = path.read_text(encoding="utf-8-sig")
    subject = notebook_subject(raw, display=display, path=str(path))
    joined = subject.source
    spans = getattr(subject.display, "cells", ())  # (first joined line, cell number, lines)
    nb = json.loads(raw)

    def rebuilt(text: str) -> str:
        old, new = joined.split("\n"), text.split("\n")
        if len(old) != len(new):
            raise PreflightError("the fix removes or adds a line, which is not applied to a notebook; "
                                 "run --diff and edit the cell", display)
        out = deepcopy(nb)
        for first, number, count in spans:
            cell = out["cells"][number - 1]
            src = "".join(cell["source"]) if isinstance(cell.get("source"), list) else cell.get("source", "")
            lines = src.splitlines(keepends=True)
            for k in range(count):
                i = first - 1 + k
                if old[i] != new[i] and k < len(lines):
                    ending = lines[k][len(lines[k].rstrip("\r\n")):]
                    lines[k] = new[i] + ending
            cell["source"] = lines if isinstance(cell.get("source"), list) else "".join(lines)
        return json.dumps(out, indent=1, ensure_ascii=False) + ("\n" if raw.endswith("\n") else "")

    def reread(text: str) -> list[Any]:
        with _not_cached(path):
            fixed = subject if text == joined else notebook_subject(rebuilt(text), display=display, path=str(path))
            return rule_findings(fixed, config)

    result = fix_text(joined, display, path, config, unsafe, reread=reread)
    if result.changed:
        result.before, result.after = raw, rebuilt(result.after)
    return result


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path``'s bytes through a temporary file in its folder and a rename, keeping its mode."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".preflight-fix")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
