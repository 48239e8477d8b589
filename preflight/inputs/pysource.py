"""Python source files -> ``CodeSubject``: read as text and parsed with ``ast``; never imported, never run.

A file that cannot be read as Python (binary data, an undecodable byte, a syntax error, nesting too
deep for the parser) raises ``PreflightError`` with one line naming the file and, where known, the
line; the engine reports it and goes on with the other files.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path
from typing import Any, Literal

from preflight.errors import PreflightError
from preflight.inputs.subject import CodeSubject

# A comment in preflight's namespace: "# preflight: <directive>"; only two directives exist, a bare
# "ignore" (every code) and "ignore[CODE, ...]"; after either, only another comment or (after "]")
# a reason separated by whitespace. Anything else is malformed: it silences nothing and is noted.
DIRECTIVE_RE = re.compile(r"#\s*preflight\s*:(?P<rest>[^#]*)", re.IGNORECASE)
IGNORE_RE = re.compile(r"\s*ignore(?:\[(?P<codes>[^\]]*)\](?:\s.*)?|\s*)", re.IGNORECASE | re.DOTALL)
CODE_RE = re.compile(r"^PF\d{0,3}$")
# A noqa comment naming codes (ruff's and flake8's spelling, typed by habit): its PF codes silence as
# ignore[...] does; other codes in it (E501) are another tool's, and a bare noqa silences no preflight rule (it is
# flake8's or ruff's, and would hide every finding on a line written long before preflight ran).
NOQA_RE = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Za-z]+\d*(?:\s*,?\s*[A-Za-z]+\d+)*)", re.IGNORECASE)
NOQA_CODE_RE = re.compile(r"[A-Za-z]+\d*")
SUPPRESSION_HELP = "write '# preflight: ignore[PF101]' (codes or prefixes, comma-separated) or '# preflight: ignore'"

# Syntax newer than the running Python, recognised on the line the parser stopped at:
# (first version that reads it, pattern, what it is)
NEWER_SYNTAX: tuple[tuple[tuple[int, int], re.Pattern[str], str], ...] = (
    ((3, 12), re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(?:\[[^=]*\])?\s*="), "a 'type' alias statement, PEP 695"),
    ((3, 12), re.compile(r"^\s*(?:async\s+def|def|class)\s+[A-Za-z_]\w*\s*\["), "a type parameter list, PEP 695"),
)


def read_python(path: Path, options: Any = None) -> CodeSubject:
    """The reader registered for ``.py`` (and ``.pyw``) files."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PreflightError(f"could not be read ({exc.strerror or exc})", path) from None
    return code_subject(data, display=str(path), path=str(path), project=True)


def might_hold_finding(data: bytes) -> bool:
    """The cheap text test: a framework's name appears, and a loss the rules pair, a DataLoader or a
    DistributedSampler, or both a backward() and a step() call (a training loop over tensors)."""
    from preflight.analysis.names import BACKWARD_TEXT, FRAMEWORK_TEXT_RE, STEP_TEXT, TRAINING_TEXTS

    trains = any(word in data for word in TRAINING_TEXTS) or (BACKWARD_TEXT in data and STEP_TEXT in data)
    return trains and FRAMEWORK_TEXT_RE.search(data) is not None


def read_python_prefiltered(path: Path, options: Any = None) -> CodeSubject:
    """The reader for ``.py`` files found by walking a folder: a file that fails the cheap text test
    is decoded (an unreadable file is still reported) but neither parsed nor analysed."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PreflightError(f"could not be read ({exc.strerror or exc})", path) from None
    if might_hold_finding(data):
        return code_subject(data, display=str(path), path=str(path), project=True)
    text = decode_source(data, str(path))
    if "\x00" in text:
        raise PreflightError("is not Python source (it holds NUL bytes: a binary file?); exclude it from the check",
                             str(path))
    return CodeSubject(path=str(path), display=str(path), source=text, tree=None, lines=text.splitlines())


def code_subject(source: str | bytes, display: str = "<string>", path: str | None = None,
                 project: bool = False) -> CodeSubject:
    """Parse Python source (bytes are decoded as Python would: BOM, PEP 263 coding line, else UTF-8).
    ``project``: the source is the file at ``path``, read with the project around it (its imports)."""
    text = decode_source(source, display) if isinstance(source, bytes) else source
    if "\x00" in text:
        raise PreflightError("is not Python source (it holds NUL bytes: a binary file?); exclude it from the check",
                             display)
    notes: list[str] = []
    try:
        tree = _parse(text, display)
    except SyntaxError as exc:
        cell_tree = _cell_script_tree(text, display)
        if cell_tree is None:
            raise PreflightError(syntax_message(exc, text, display)) from None
        tree = cell_tree
        notes.append("a cell script (# %% cells) with IPython magics: its %magic and !shell lines were read as `pass`")
    except (RecursionError, MemoryError):
        raise PreflightError("is nested too deeply for Python's parser to read; simplify the deepest expression "
                             "or exclude the file", display) from None
    except ValueError as exc:  # e.g. surrogates that cannot be encoded
        raise PreflightError(f"is not readable Python source ({exc}); exclude it from the check", display) from None
    lines = text.splitlines()
    ignores, malformed = read_suppressions(text, display)
    subject = CodeSubject(path=path, display=display, source=text, tree=tree, lines=lines, ignores=ignores)
    subject.notes.extend(notes + malformed)
    analyse_subject(subject, project)
    return subject


_CELL_MARKER = re.compile(r"^#\s*(%%|In\[[\d ]*\]:)", re.MULTILINE)  # VS Code/Jupytext cells, nbconvert
# %matplotlib inline, %%time, !pip install ... (not a "% (args)" continuation line of a format string)
# An IPython line: a line or cell magic (``%time``, ``%%bash``) or a shell escape (``!pip install``); not a
# ``% (args)`` line that continues a format string. Shared with ``preflight.inputs.notebook``.
MAGIC_PREFIX = r"(?:%%?[A-Za-z_]|!\s*[\w./~-])"
_MAGIC_LINE = re.compile(r"^([ \t]*)" + MAGIC_PREFIX + r".*$", re.MULTILINE)


def _parse(text: str, display: str) -> ast.Module:
    from preflight.analysis.parsing import parse

    return parse(text, display)


def _cell_script_tree(text: str, display: str) -> ast.Module | None:
    """A ``.py`` notebook export (``# %%`` or ``# In[1]:`` cells) that only fails to parse because of
    IPython lines: parsed with each ``%magic`` / ``!shell`` line read as ``pass`` (line numbers kept,
    as in a notebook); None for any other syntax error."""
    if not _CELL_MARKER.search(text) or not _MAGIC_LINE.search(text):
        return None
    try:
        return _parse(_MAGIC_LINE.sub(lambda m: f"{m.group(1)}pass", text), display)
    except SyntaxError:
        return None


def analyse_subject(subject: CodeSubject, project: bool = True) -> None:
    """The flow analysis; a file on disk is read as part of its project (its imports of the
    project's modules are followed, and its walk is shared with the files that import it)."""
    if subject.path is None or not project:
        subject.analyse()
        return
    from preflight.analysis import analyse

    try:
        subject.flow = analyse(subject.tree, subject.path)
    except RecursionError:
        subject.flow = None
        subject.notes.append("nested too deeply to follow its values; the setup rules (PF203, PF3xx) were skipped")


def decode_source(data: bytes, display: str) -> str:
    """Decode as the interpreter would (``tokenize.open``): a BOM or PEP 263 coding line, else UTF-8."""
    if b"\x00" in data[:8192]:
        raise PreflightError("is not Python source (it holds NUL bytes: a binary file?); exclude it from the check",
                             display)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise PreflightError(f"has a bad encoding declaration ({exc.msg if hasattr(exc, 'msg') else exc}); "
                             "fix its '# -*- coding: ... -*-' line (PEP 263)", display) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PreflightError(
            f"{display}:{line}: is not valid {encoding} (byte 0x{data[exc.start]:02x}); save the file as UTF-8 "
            "or declare its encoding with a '# -*- coding: <name> -*-' line (PEP 263)") from None
    except LookupError:  # pragma: no cover - detect_encoding already checked the codec
        raise PreflightError(f"declares an unknown encoding {encoding!r}", display) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def syntax_message(exc: SyntaxError, text: str, display: str) -> str:
    """The one line for a file this Python cannot parse. It does not call the file wrong when it may be
    valid for a newer Python: syntax recognised as newer says so and names the version it needs."""
    where = f"{display}:{exc.lineno}" if exc.lineno else display
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    lines = text.splitlines()
    line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else (exc.text or "")
    for needs, pattern, what in NEWER_SYNTAX:
        if sys.version_info[:2] < needs and pattern.match(line):
            return (f"{where}: uses Python {needs[0]}.{needs[1]} syntax ({what}), which this Python ({running}) "
                    f"cannot parse: run preflight with Python {needs[0]}.{needs[1]} or newer to check it, "
                    "or exclude the file")
    msg = (exc.msg or "invalid syntax").strip()
    return (f"{where}: syntax error: {msg}, as Python {running} parses it (the file may use syntax newer than "
            f"this Python); fix it, check it with the Python it is written for, or exclude the file")


def suppressions(text: str) -> dict[int, frozenset[str] | None]:
    """``# preflight: ignore[PF203, PF301]`` comments by line; ``None`` means every code (a bare ignore)."""
    return read_suppressions(text)[0]


def read_suppressions(text: str, display: object = "<string>") -> tuple[dict[int, frozenset[str] | None], list[str]]:
    """The suppression comments by line (``None``: every code), and a note for each ``# preflight:``
    comment that is not one (``ignore [PF1]``, ``ignore[PF1``, ``ignored``, ``ignore[F401]``): a
    malformed suppression silences nothing, and says so. ``display`` places a line in a notebook.

    Comments are found with ``tokenize``, so the text inside a string does not count; if tokenize
    cannot read the file (rare where ``ast`` could), each line is searched instead.
    """
    found: dict[int, frozenset[str] | None] = {}
    notes: list[str] = []

    def add(line: int, comment: str) -> None:
        noqa = noqa_codes(comment)
        if noqa:
            found[line] = None if found.get(line, frozenset()) is None else (found.get(line) or frozenset()) | noqa
        for m in DIRECTIVE_RE.finditer(comment):
            codes = _directive_codes(m.group("rest"))
            if codes is False:
                notes.append(f"{place_line(display, line)}: {m.group(0).strip()!r} is not a suppression preflight "
                             f"reads, and silences nothing; {SUPPRESSION_HELP}")
            elif codes is None or found.get(line, frozenset()) is None:
                found[line] = None
            else:
                found[line] = (found.get(line) or frozenset()) | codes

    if not _may_suppress(text):
        return found, notes
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and _may_suppress(tok.string):
                add(tok.start[0], tok.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        found.clear()
        notes.clear()
        for i, line in enumerate(text.splitlines(), 1):
            if "#" in line and _may_suppress(line):
                add(i, line[line.index("#"):])
    return found, notes


def _may_suppress(text: str) -> bool:
    lower = text.lower()
    return "preflight" in lower or "noqa" in lower


def noqa_codes(comment: str) -> frozenset[str]:
    """The PF codes of the ``# noqa: ...`` comments in ``comment`` (empty for a bare ``# noqa``)."""
    return frozenset(code.upper() for m in NOQA_RE.finditer(comment)
                     for code in NOQA_CODE_RE.findall(m.group("codes")) if code.upper().startswith("PF"))


def suppression_form(line_text: str, code: str | None) -> str:
    """How the comment on ``line_text`` spells the suppression of ``code`` (None: a bare ignore), for a note."""
    if code is not None and code in noqa_codes(line_text) and not any(
            code in (_directive_codes(m.group("rest")) or ()) for m in DIRECTIVE_RE.finditer(line_text)):
        return f"# noqa: {code}"
    return "# preflight: ignore" if code is None else f"# preflight: ignore[{code}]"


def place_line(display: object, line: int) -> str:
    """``line 7``, or in a notebook (a display that places its joined lines) ``cell 3, line 2``."""
    cell_of = getattr(display, "cell_of", None)
    placed = cell_of(line) if callable(cell_of) else None
    return f"cell {placed[0]}, line {placed[1]}" if placed else f"line {line}"


def _directive_codes(rest: str) -> frozenset[str] | Literal[False] | None:
    """What the text after ``# preflight:`` asks: ``None`` every code (a bare ignore), the codes of
    ``ignore[...]``, or ``False`` for anything else (malformed: no codes, a code not ``PF`` and up to
    three digits, a missing bracket, a space before it, another word)."""
    m = IGNORE_RE.fullmatch(rest)
    if m is None:
        return False
    if m.group("codes") is None:
        return None
    codes = [c.strip().upper() for c in m.group("codes").split(",")]
    if not codes or not all(CODE_RE.match(c) for c in codes):
        return False
    return frozenset(codes)
