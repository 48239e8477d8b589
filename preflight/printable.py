"""Names from data, file systems and code made safe to print: the one escaping every output uses.

A column, file or function name can hold any character. Printed raw, a newline followed by
``::error file=...`` is a line GitHub's runner executes as a workflow command (it reads commands on
stdout and stderr, in any output format, after leading whitespace), and an ESC, a C1 control (such
as U+009B, CSI) or a bidi override rewrites what the terminal shows (window title, hyperlinks,
clear screen, text read backwards).

``printable(line)`` writes those characters as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``) and
escapes the first ``:`` of a line that would begin, after whitespace, with ``::`` (``\\x3a:``); the
result is one line of printable text, and ``printable`` of it is itself (so a line escaped twice
reads the same). ``printable_text(text)`` does the same to each line of a text whose newlines are
the writer's own (a rendered report). Backslashes are left as they are: a name spelled with a
literal ``\\n`` reads the same as one holding a newline, which is ambiguous but harmless.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "printable", "printable_text"]

# C0 controls, DEL, C1 controls; the Arabic letter mark, LRM/RLM, bidi embeddings, overrides and
# isolates; the Unicode line and paragraph separators (some readers break lines there)
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def _defuse(line: str) -> str:
    """A line that would start a workflow command (``::`` after whitespace) with its first ``:`` escaped."""
    rest = line.lstrip()
    if not rest.startswith("::"):
        return line
    start = len(line) - len(rest)
    return line[:start] + "\\x3a" + line[start + 1:]


def printable(line: str) -> str:
    """``line`` as one printable line: control, bidi and line-separator characters escaped, and no
    ``::`` at its start."""
    return _defuse(UNSAFE.sub(_escape, line))


def printable_text(text: str) -> str:
    """Each line of ``text`` made printable (its newlines and tabs are kept: they are the writer's)."""
    return "\n".join(_defuse(_UNSAFE_IN_TEXT.sub(_escape, line)) for line in text.split("\n"))
