"""The bounds the readers keep, each checked before the reader allocates (by ``stat``, a header, or
a count over the bytes).

Stated here so that one place says what preflight refuses for its size, and why:

- a ``.py`` file of more than ``MAX_PYTHON_BYTES``, or of more than ``MAX_PYTHON_TOKENS`` tokens (a
  notebook's code cells too): parsing and analysing Python take about 0.7 KB of memory per token
  (names, numbers and operators, counted with a regular expression before parsing), so 1 MB of
  ``x=f(y)`` lines took 720 MB and 1.1 MB of typical training code 355 MB;
- a ``.ipynb`` file of more than ``MAX_NOTEBOOK_BYTES``: it is parsed as JSON (outputs included, never
  run or parsed as code), up to 12 bytes of memory per byte (32 MB of numbers in an output took 430 MB);
- a CSV record (a line, or a quoted field spanning lines) longer than ``MAX_RECORD_BYTES``
  (``preflight.inputs.csv_records``): polars holds about five copies of one record while it parses it;
- an ``.npz`` member of more than ``MAX_NPZ_BYTES`` uncompressed (``preflight.inputs.numpy_files``):
  members are decompressed into memory, so a few MB of zip can promise any size.

With these, no input in the hostile corpus takes more than ``PEAK_RSS_BYTES`` of memory
(``tests/test_hostile_files.py`` measures the peak of a child process on each).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from preflight.errors import PreflightError

MAX_PYTHON_BYTES = 4 << 20
MAX_PYTHON_TOKENS = 600_000
MAX_NOTEBOOK_BYTES = 32 << 20
MAX_RECORD_BYTES = 32 << 20
MAX_NPZ_BYTES = 1 << 30
PEAK_RSS_BYTES = 600 << 20

# suffix -> (most bytes, what the limit is called in the message)
SIZE_LIMITS: dict[str, tuple[int, str]] = {
    ".py": (MAX_PYTHON_BYTES, "Python source"),
    ".pyw": (MAX_PYTHON_BYTES, "Python source"),
    ".ipynb": (MAX_NOTEBOOK_BYTES, "a notebook"),
}
PYTHON_SUFFIXES = (".py", ".pyw")
# a token, near enough: a run of word characters, or one other visible character (an operator,
# a bracket, a quote); it overcounts comments and strings, which errs on the side of refusing
TOKEN_RE = re.compile(rb"\w+|[^\w\s]")
TEXT_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def mb(n: int) -> str:
    if n < 2**20:
        return f"{n / 2**10:,.0f} KB"
    return f"{n / 2**20:,.1f} MB" if n % 2**20 else f"{n >> 20} MB"


def over_size(path: Path, size: int) -> str | None:
    """Why the file of ``size`` bytes at ``path`` is too large for its reader, or None; a Python file
    under its size limit is read here to count its tokens."""
    limit = SIZE_LIMITS.get(path.suffix.lower())
    if limit is None:
        return None
    if size > limit[0]:
        return (f"is {mb(size)}, over the {mb(limit[0])} preflight reads as {limit[1]} (generated code or "
                "data?); not read: exclude it from the check")
    if path.suffix.lower() not in PYTHON_SUFFIXES or size <= MAX_PYTHON_TOKENS:
        return None  # a token is at least a byte: a file this small cannot hold too many
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PYTHON_BYTES + 1)
    except OSError:
        return None  # the reader reports it
    return _over_tokens(sum(1 for _ in TOKEN_RE.finditer(data)))  # one match at a time: no list of them


def _over_tokens(tokens: int) -> str | None:
    if tokens <= MAX_PYTHON_TOKENS:
        return None
    return (f"holds about {tokens:,} tokens of Python, over the {MAX_PYTHON_TOKENS:,} preflight parses (about "
            "0.7 KB of memory each; generated code?); not read: exclude it from the check")


def check_code_cells(cells: Iterable[tuple[str, str]], display: str) -> None:
    """Refuse a notebook whose code cells hold more than ``MAX_PYTHON_TOKENS`` tokens, before they
    are joined and parsed."""
    why = _over_tokens(sum(1 for kind, src in cells if kind == "code" for _ in TEXT_TOKEN_RE.finditer(src)))
    if why is not None:
        raise PreflightError(why, display)
