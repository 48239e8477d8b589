"""The records of a CSV file, checked in one streamed pass over its bytes before polars reads it.

polars pads a row with too few fields with nulls and says nothing, reads a quote left open as one
field to the end of the file, and holds a whole record in memory however long it is. This pass
finds, with numpy over blocks of bytes (no Python loop over rows, constant memory):

- a record whose number of fields differs from the header's (a ragged row, a short last line);
- a quote (``"``) left open at the end of the file (named by the line its record starts on);
- a record longer than ``MAX_RECORD_BYTES`` (``preflight.inputs.limits``), and a header wider
  than ``MAX_COLUMNS``.

A record ends at a newline outside quotes; a field delimiter counts outside quotes only. A quote
toggles "inside" wherever it stands, as polars' own reader splits a file (a doubled ``""`` inside a
quoted field toggles twice). Blank lines are not records (polars reads them as a row of nulls).

Most large tables hold no quote at all, and there ``plain_records`` (a ``find`` per block of bytes:
memchr, a few hundredths of a second per 100 MB) proves everything this pass checks but the field
counts: no quote can be left open, every block holds a newline so no record reaches
``MAX_RECORD_BYTES``, and the header's width is read from the first line. The field counts are then
left to the reader, which sees every ragged row itself: polars raises on a record with more fields
than the header, and fills a record with fewer with nulls, so its last column holds a null. (One
exception, checked here instead: a last record without a newline after it may carry one trailing
empty field that polars drops without a word.) The reader
runs ``check_records`` when either happens (``preflight.inputs.files``), so a ragged row is named by the
same line as before, and a file without either costs no pass of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from preflight.errors import PreflightError
from preflight.inputs.limits import MAX_RECORD_BYTES, mb
from preflight.inputs.tabular import MAX_COLUMNS, too_many_columns

BLOCK_BYTES = 4 << 20
NL, CR, QUOTE = ord("\n"), ord("\r"), ord('"')


@dataclass
class _State:
    """What carries from one block to the next: the record being read and the lines before it."""

    inside: int = 0  # 1 while a quote is open
    fields: int = 1  # fields of the record being read so far
    start: int = 0  # byte offset where the record being read starts
    start_line: int = 1  # its line number (1-based)
    lines: int = 0  # newlines seen before the current block
    header: int | None = None  # fields of the header record, once read
    last_cr: bool = False  # the previous block ended with a CR (a CRLF split across two blocks)


def plain_records(path: Path, sep: str, display: str) -> bool:
    """True when ``path`` holds no quote and a newline in every ``BLOCK_BYTES`` (so no record is longer
    than ``MAX_RECORD_BYTES``), and its header is not wider than ``MAX_COLUMNS`` (raised here, as
    ``check_records`` would). Then only the field counts are left unchecked (see the module)."""
    assert 2 * BLOCK_BYTES <= MAX_RECORD_BYTES  # two newlines a block apart are less than a record apart
    sep_bytes = sep.encode()
    header = 0
    last = b""
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            if block.find(b'"') >= 0:
                return False
            end = block.find(b"\n")
            if end < 0 and len(block) == BLOCK_BYTES:
                return False
            if not header:
                if end <= 0 or not block[:end].strip():  # no newline, or a blank first line: the whole pass
                    return False
                header = block.count(sep_bytes, 0, end) + 1
                if header > MAX_COLUMNS:
                    raise too_many_columns(header, display)
            last = block
    return _last_record_fits(last, sep_bytes, header)


def _last_record_fits(last: bytes, sep: bytes, header: int) -> bool:
    """A last record without a newline after it has the header's fields (polars reads one trailing empty
    field there without a word, where a record inside the file with it raises)."""
    if last.endswith(b"\n"):
        return True
    start = last.rfind(b"\n") + 1
    if start == 0:  # the file's last record started in an earlier block: the whole pass decides
        return False
    tail = last[start:].rstrip(b"\r")
    return not tail.strip() or tail.count(sep) + 1 == header


def check_records(path: Path, sep: str, display: str) -> None:
    """Raise ``PreflightError`` naming the line of the first bad record of ``path`` (see the module)."""
    state = _State()
    sep_byte = ord(sep)
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            _block(np.frombuffer(block, dtype=np.uint8), offset, sep_byte, state, display)
            state.lines += block.count(b"\n")
            offset += len(block)
    if state.inside:
        raise PreflightError(f"has a quote (\") opened in the record starting at line {state.start_line} and never "
                             "closed; close the quote (a quote inside a field is written twice: \"\")", display)
    if offset - state.start > 0:  # a last record without a newline at the end
        _record(state.fields, offset - state.start, state.start_line, state, display)


def _block(a: np.ndarray, offset: int, sep: int, state: _State, display: str) -> None:
    quotes = np.flatnonzero(a == QUOTE)
    newlines = np.flatnonzero(a == NL)
    seps = np.flatnonzero(a == sep)
    if len(quotes) or state.inside:
        # a byte is inside quotes when an odd number of quotes (counting the open one) stands before it
        nl_out = newlines[(state.inside + np.searchsorted(quotes, newlines)) % 2 == 0]
        sep_out = seps[(state.inside + np.searchsorted(quotes, seps)) % 2 == 0]
    else:
        nl_out, sep_out = newlines, seps
    if len(nl_out):
        fields = np.diff(np.searchsorted(sep_out, nl_out), prepend=0) + 1
        fields[0] += state.fields - 1
        starts = np.concatenate(([state.start - offset], nl_out[:-1] + 1))
        lengths = nl_out - starts
        cr = a[np.maximum(nl_out - 1, 0)] == CR
        if nl_out[0] == 0:  # the newline opens the block: its CR, if any, ended the previous one
            cr[0] = state.last_cr
        lengths -= cr & (lengths > 0)  # CRLF: the CR is no content
        lines = state.lines + 1 + np.concatenate(([state.start_line - 1 - state.lines],
                                                  np.searchsorted(newlines, nl_out[:-1]) + 1))
        _records(fields, lengths, lines, state, display)
        state.fields = 1 + len(sep_out) - int(np.searchsorted(sep_out, nl_out[-1]))
        state.start = offset + int(nl_out[-1]) + 1
        state.start_line = state.lines + 1 + int(np.searchsorted(newlines, nl_out[-1])) + 1
    else:
        state.fields += len(sep_out)
    state.inside = (state.inside + len(quotes)) % 2
    state.last_cr = bool(a[-1] == CR)
    if offset + len(a) - state.start > MAX_RECORD_BYTES:
        _too_long(state.start_line, display)


def _records(fields: np.ndarray, lengths: np.ndarray, lines: np.ndarray, state: _State, display: str) -> None:
    """Check the complete records of one block: field counts against the header's, lengths."""
    content = lengths > 0  # blank lines are no records
    if not content.any():
        return
    fields, lengths, lines = fields[content], lengths[content], lines[content]
    if state.header is None:
        _record(int(fields[0]), int(lengths[0]), int(lines[0]), state, display)
        fields, lengths, lines = fields[1:], lengths[1:], lines[1:]
    long = np.flatnonzero(lengths > MAX_RECORD_BYTES)
    bad = np.flatnonzero(fields != state.header)
    if len(long) and (not len(bad) or long[0] < bad[0]):
        _too_long(int(lines[long[0]]), display)
    if len(bad):
        i = bad[0]
        _ragged(int(lines[i]), int(fields[i]), state.header or 0, display)


def _record(fields: int, length: int, line: int, state: _State, display: str) -> None:
    """Check one record (the header, or a last record with no newline after it)."""
    if length > MAX_RECORD_BYTES:
        _too_long(line, display)
    if state.header is None:
        if fields > MAX_COLUMNS:
            raise too_many_columns(fields, display)
        state.header = fields
    elif fields != state.header:
        _ragged(line, fields, state.header, display)


def _ragged(line: int, got: int, want: int, display: str) -> None:
    fix = ("fix the row or quote the field that holds the delimiter" if got > want else
           "fill in the missing fields (an empty field still needs its delimiter)")
    raise PreflightError(f"line {line} has {got} field{'s' if got != 1 else ''} where the header has {want} "
                         f"(ragged rows); {fix}", display)


def _too_long(line: int, display: str) -> None:
    raise PreflightError(f"has a record longer than {mb(MAX_RECORD_BYTES)} starting at line {line}; preflight "
                         "does not read records that long (is a quote left open, or is it really CSV?)", display)
