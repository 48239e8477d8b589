"""The bounds the readers keep, each checked before the reader allocates (by ``stat`` or by a header).

Stated here so that one place says what preflight refuses for its size, and why:

- a ``.py`` file (or a notebook's joined code cells) of more than ``MAX_PYTHON_BYTES``: parsing and
  analysing Python take up to 700 bytes of memory per byte of source (1 MB of `x=f(y)` lines took 720 MB);
- a ``.ipynb`` file of more than ``MAX_NOTEBOOK_BYTES``: it is parsed as JSON (outputs included, never
  run or parsed as code), up to 12 bytes of memory per byte (32 MB of numbers in an output took 400 MB);
- a CSV record (a line, or a quoted field spanning lines) longer than ``MAX_RECORD_BYTES``
  (``preflight.inputs.csv_records``): polars holds about five copies of one record while it parses it;
- an ``.npz`` member of more than ``MAX_NPZ_BYTES`` uncompressed (``preflight.inputs.numpy_files``):
  members are decompressed into memory, so a few MB of zip can promise any size.

With these, no input in the hostile corpus takes more than ``PEAK_RSS_BYTES`` of memory
(``tests/test_hostile_files.py`` measures the peak of a child process on each).
"""

from __future__ import annotations

from pathlib import Path

from preflight.errors import PreflightError

MAX_PYTHON_BYTES = 512 << 10
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


def mb(n: int) -> str:
    if n < 2**20:
        return f"{n / 2**10:,.0f} KB"
    return f"{n / 2**20:,.1f} MB" if n % 2**20 else f"{n >> 20} MB"


def over_size(path: Path, size: int) -> str | None:
    """Why a file of ``size`` bytes at ``path`` is too large for its reader, or None."""
    limit = SIZE_LIMITS.get(path.suffix.lower())
    if limit is None or size <= limit[0]:
        return None
    return (f"is {mb(size)}, over the {mb(limit[0])} preflight reads as {limit[1]} (generated code or data?); "
            "not read: exclude it from the check")


def check_source_length(length: int, display: str) -> None:
    """Refuse ``length`` characters of Python source (a notebook's code cells) over ``MAX_PYTHON_BYTES``,
    before they are parsed."""
    if length > MAX_PYTHON_BYTES:
        raise PreflightError(f"holds {mb(length)} of code, over the {mb(MAX_PYTHON_BYTES)} preflight parses; "
                             "not read: exclude it from the check", display)
