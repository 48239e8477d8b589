"""Text edits at source positions, and the fix a finding carries (plain values; no I/O)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text from (``line``, ``col``) to (``end_line``, ``end_col``) by ``text``.

    Lines count from 1 and columns from 0, in characters (not the UTF-8 bytes ``ast`` counts)."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "col": self.col, "end_line": self.end_line, "end_col": self.end_col,
                "text": self.text}


@dataclass(frozen=True)
class CodeFix:
    """A finding's automatic fix: what it does, whether it is safe, and its edits."""

    message: str
    safe: bool
    edits: tuple[Edit, ...]
    why_unsafe: str = ""  # for an unsafe fix: what else reads the value the fix changes

    def to_dict(self) -> dict[str, Any]:
        return {"available": True, "safe": self.safe, "message": self.message,
                **({"why_unsafe": self.why_unsafe} if self.why_unsafe else {}),
                "edits": [e.to_dict() for e in self.edits]}


def line_starts(text: str) -> list[int]:
    """Offset of the start of each line (1-based line ``i`` starts at ``starts[i - 1]``), lines ending
    at ``\\n``, ``\\r\\n`` or ``\\r`` as Python's tokenizer counts them."""
    return [0] + [m.end() for m in _LINE_END.finditer(text)]


def char_col(line_text: str, byte_col: int) -> int:
    """The character column of an ``ast`` offset (UTF-8 bytes) in a line."""
    if line_text.isascii():
        return byte_col
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def node_span(lines: Sequence[str], node: ast.AST) -> tuple[int, int, int, int]:
    """(line, col, end_line, end_col) of a node, columns in characters."""
    line, end_line = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
    col = char_col(lines[line - 1], node.col_offset)  # type: ignore[attr-defined]
    end_col = char_col(lines[end_line - 1], node.end_col_offset or 0)  # type: ignore[attr-defined]
    return line, col, end_line, end_col


def replace_node(lines: Sequence[str], node: ast.AST, text: str) -> Edit:
    return Edit(*node_span(lines, node), text)


def source_of(lines: Sequence[str], node: ast.AST) -> str:
    line, col, end_line, end_col = node_span(lines, node)
    if line == end_line:
        return lines[line - 1][col:end_col]
    return "\n".join([lines[line - 1][col:], *lines[line:end_line - 1], lines[end_line - 1][:end_col]])


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with the edits applied. Identical edits count once; an edit that overlaps an earlier
    one (in position order) is left out, as ruff leaves a conflicting fix to the next pass."""
    starts = line_starts(text)

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + col

    out: list[str] = []
    pos = 0
    for e in sorted(set(edits)):
        a, b = offset(e.line, e.col), offset(e.end_line, e.end_col)
        if a < pos:
            continue
        out.append(text[pos:a])
        out.append(e.text)
        pos = b
    out.append(text[pos:])
    return "".join(out)
