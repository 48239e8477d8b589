"""Jupyter notebooks (``.ipynb``) -> ``CodeSubject``: the code cells joined into one module, read as
the ``.py`` reader reads a file (``preflight.inputs.pysource``); never executed, outputs never read.

What is read:

- the ``source`` of every ``code`` cell, in order, joined with a newline (a name defined in cell 2 and
  used in cell 7 is followed as in a script); markdown and raw cells and every ``outputs`` are not;
- IPython syntax is blanked, not parsed: a line magic (``%time``, ``%matplotlib inline``), a shell
  line (``!pip install ...``), a help line (``obj?``) becomes ``pass`` at its indentation (so a block
  keeps a body and line numbers stay put); a cell magic (``%%bash``, ``%%writefile``) blanks its
  whole cell, except ``%%time``, ``%%timeit`` and ``%%capture``, whose body is Python;
- a code cell that is still not Python (a typo, top-level ``await``) is skipped with a note naming the
  cell; the other cells are checked.

Where a finding is: cells are numbered from 1 over *all* cells of the file (markdown included, as
VS Code and JupyterLab number them), and lines from 1 within the cell. The subject's ``display`` is
a ``NotebookPath``, a ``str`` that also maps a line of the joined source to ``(cell, line)``; a
``findings.Location`` made with it fills ``cell`` and ``cell_line`` from its ``line`` (which stays
the joined line, so ``# preflight: ignore[PF301]`` written in a cell suppresses as in a file).

A notebook that is not one (not JSON, no ``cells`` list, a cell that is not an object, a ``source``
that is neither a string nor a list of strings) raises ``PreflightError``: one line naming the file.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path
from typing import Any

from preflight.errors import PreflightError
from preflight.inputs.limits import check_code_cells
from preflight.inputs.pysource import MAGIC_PREFIX, code_subject
from preflight.inputs.subject import CodeSubject

# A line IPython transforms before Python sees it: %magic, !shell, and help (``obj?``, ``??obj``).
_MAGIC_LINE = re.compile(r"^\s*(" + MAGIC_PREFIX + r"|\?)|^[^#'\"]*\?\s*$")
_ASSIGN_MAGIC = re.compile(r"^(\s*)[\w.,\s\[\]]+=\s*[%!]")  # ``files = !ls``, ``t = %timeit -o f()``
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
MAX_CELLS = 100_000


class NotebookPath(str):
    """A notebook's path as displayed, which also knows where each code cell starts in the joined source."""

    cells: tuple[tuple[int, int, int], ...]  # (first joined line, cell number, number of lines), in order

    def __new__(cls, value: str, cells: tuple[tuple[int, int, int], ...] = ()) -> NotebookPath:
        self = super().__new__(cls, value)
        self.cells = cells
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its cells (a parallel run sends findings back)
        return (NotebookPath, (str(self), self.cells))

    def cell_of(self, line: int) -> tuple[int, int] | None:
        """(cell number, line within the cell) of a line of the joined source; None outside every cell."""
        for start, cell, count in self.cells:
            if start <= line < start + max(count, 1):
                return cell, line - start + 1
        return None


def read_notebook(path: Path, options: Any = None) -> CodeSubject:
    """The reader registered for ``.ipynb`` files."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PreflightError(f"could not be read ({exc.strerror or exc})", path) from None
    return notebook_subject(data, display=str(path), path=str(path))


def notebook_subject(data: str | bytes, display: str = "<notebook>", path: str | None = None) -> CodeSubject:
    """Parse a notebook's JSON and read its code cells as one Python module."""
    if isinstance(data, bytes):
        try:  # a notebook is JSON, which is UTF-8 (RFC 8259): no Python coding line applies to it
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PreflightError("is not UTF-8 JSON, as a notebook must be; re-save it as UTF-8", display) from None
    else:
        text = data
    cells = _cells(text, display)
    check_code_cells(cells, display)
    source, spans, notes = join_cells(cells)
    subject = code_subject(source, display=NotebookPath(display, spans), path=path)
    subject.notes.extend(notes)
    return subject


def _cells(text: str, display: str) -> list[tuple[str, str]]:
    """(cell type, source) of every cell, in order; a malformed notebook raises one error line."""
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise PreflightError(f"is not a Jupyter notebook: not valid JSON{where}; save it from Jupyter or exclude it",
                             display) from None
    if isinstance(nb, dict) and "cells" not in nb and isinstance(nb.get("worksheets"), list):  # nbformat 3
        sheets = [w for w in nb["worksheets"] if isinstance(w, dict)]
        nb = {"cells": [dict(c, source=c.get("input", "")) if isinstance(c, dict) else c
                        for w in sheets for c in w.get("cells", [])]}
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise PreflightError("is not a Jupyter notebook: it has no 'cells' list (nbformat 4); "
                             "save it from Jupyter or exclude it", display)
    if len(nb["cells"]) > MAX_CELLS:
        raise PreflightError(f"has more than {MAX_CELLS:,} cells; not read", display)
    out: list[tuple[str, str]] = []
    for i, cell in enumerate(nb["cells"], 1):
        if not isinstance(cell, dict):
            raise PreflightError(f"is not a valid notebook: cell {i} is not a JSON object", display)
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        elif not isinstance(src, str):
            raise PreflightError(f"is not a valid notebook: the source of cell {i} is neither a string nor a "
                                 "list of strings", display)
        out.append((str(cell.get("cell_type", "code")), src))
    return out


def join_cells(cells: list[tuple[str, str]]) -> tuple[str, tuple[tuple[int, int, int], ...], list[str]]:
    """The joined source of the code cells, where each starts ((first line, cell number, lines)), and notes."""
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    notes: list[str] = []
    line = 1
    for number, (kind, src) in enumerate(cells, 1):
        if kind != "code":
            continue
        lines = python_lines(src)
        if lines and not _parses("\n".join(lines)):
            notes.append(f"cell {number} is not valid Python (after blanking IPython magics); it was skipped")
            lines = [""] * len(lines)
        lines = lines or [""]
        spans.append((line, number, len(lines)))
        parts.extend(lines)
        line += len(lines)
    return "\n".join(parts) + "\n", tuple(spans), notes


def python_lines(src: str) -> list[str]:
    """A cell's lines with IPython syntax blanked (``pass`` at the line's indentation), same count."""
    lines = src.splitlines()
    if not lines:
        return []
    first = lines[0].strip()
    if first.startswith("%%"):
        magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return [""] * len(lines)
        lines = ["", *lines[1:]]
    out = []
    for text in lines:
        if _MAGIC_LINE.match(text) or _ASSIGN_MAGIC.match(text):
            indent = text[: len(text) - len(text.lstrip())]
            out.append(f"{indent}pass")
        else:
            out.append(text)
    return out


def _parses(src: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
