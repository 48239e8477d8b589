"""A one-line progress display on stderr: files and rows read, probes run.

On a large text table it shows how far into the file the read is: ``~540 MB of 1.2 GB (45%, ETA
12 s)``. The readers stream through polars, which does not say where in the file it is, so the bytes
are estimated: rows read so far times the mean row length of the file's first 64 KiB (read once,
when the line is first drawn); the percentage stops at 99% until the file is done.

It draws only when stderr is a terminal, and only once a run has taken longer than ``DELAY``
seconds (a quick check shows nothing). When stderr is not a terminal (CI, pre-commit, a pipe, a
file) it writes nothing at all, and ``--quiet`` turns it off. The engine calls its methods as
callbacks; they are cheap no-ops when it is off. It erases its line when it closes, so findings
printed afterwards start on a clean line.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from preflight.printable import printable


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    DELAY = 0.3  # seconds of work before the first draw
    INTERVAL = 0.1  # seconds between redraws
    WIDTH = 20  # cells in the file bar

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self.clock = clock
        self.started = clock()
        self.files_total = 0
        self.files_done = 0
        self.rows = 0
        self.probes = 0
        self.current = ""
        self.action = ""
        self.file_path = ""  # the file being read, its size, rows and when its read started
        self.file_size = 0
        self.file_rows = 0
        self.file_started = 0.0
        self._row_bytes: float | None = None  # mean bytes per row of the file's head; 0 = unknown
        self._last_draw = float("-inf")
        self._drawn = 0  # width of what is on the line now

    @classmethod
    def for_stderr(cls, *, quiet: bool = False) -> Progress:
        return cls(sys.stderr, enabled=False if quiet else None)

    # --- callbacks ------------------------------------------------------------------------

    def reading(self, path: str, index: int, total: int) -> None:
        """A file is about to be read (``index`` counts from 0)."""
        if not self.enabled:
            return
        self.files_total = total
        self.current, self.action = path, "reading"
        self.file_path, self.file_rows, self.file_started, self._row_bytes = path, 0, self.clock(), None
        try:
            self.file_size = os.stat(path).st_size
        except OSError:
            self.file_size = 0
        self._draw(force=True)

    def rows_read(self, n: int) -> None:
        if not self.enabled:
            return
        self.rows += n
        self.file_rows += n
        self._draw()

    def file_done(self, display: str) -> None:
        if not self.enabled:
            return
        self.files_done += 1
        self.current, self.action = display, "checked"
        self.file_path, self.file_size = "", 0
        self._draw(force=True)

    def probing(self, display: str, findings: int) -> None:
        """The reference probe starts training for ``findings`` findings of one input."""
        if not self.enabled:
            return
        self.probes += 1
        self.current = display
        self.action = f"training probe for {findings} finding{'s' * (findings != 1)} of"
        self._draw(force=True)

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- drawing --------------------------------------------------------------------------

    def line(self) -> str:
        parts = []
        if self.files_total:
            filled = round(self.WIDTH * self.files_done / self.files_total)
            parts.append(f"[{'=' * filled}{' ' * (self.WIDTH - filled)}] {self.files_done}/{self.files_total} files")
        parts.append(f"{self.rows:,} rows")
        if (where := self.file_position()):
            parts.append(where)
        if self.probes:
            parts.append(f"{self.probes} probe{'s' * (self.probes != 1)}")
        if self.current:
            parts.append(f"{self.action} {self.current}")
        return printable("preflight " + " | ".join(parts))  # a file name may hold an escape sequence

    def file_position(self) -> str:
        """``~540 MB of 1.2 GB (45%, ETA 12 s)`` for the text table being read, else ""."""
        if not self.file_path or not self.file_size or self.action != "reading":
            return ""
        if self._row_bytes is None:
            self._row_bytes = row_bytes(self.file_path)
        if not self._row_bytes or not self.file_rows:
            return f"{size_words(self.file_size)} file"
        done = min(self.file_rows * self._row_bytes, self.file_size * 0.99)
        fraction = done / self.file_size
        spent = self.clock() - self.file_started
        eta = f", ETA {spent / fraction - spent:.0f} s" if spent > 1 and fraction > 0.01 else ""
        return f"~{size_words(done)} of {size_words(self.file_size)} ({fraction:.0%}{eta})"

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if now - self.started < self.DELAY:
            return
        if not force and now - self._last_draw < self.INTERVAL:
            return
        self._last_draw = now
        text = self.line()
        width = max(20, _columns(self.stream) - 1)
        if len(text) > width:
            text = text[: max(0, width - 3)] + "..."
        pad = max(0, self._drawn - len(text))
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False
            return
        self._drawn = len(text)


TEXT_TABLES = (".csv", ".tsv", ".txt")


def row_bytes(path: str, head: int = 65536) -> float:
    """The mean length in bytes of the rows in the first ``head`` bytes of a text table (0: not a
    plain text table, or no full row there)."""
    if not path.lower().endswith(TEXT_TABLES):
        return 0.0
    try:
        with open(path, "rb") as fh:
            data = fh.read(head)
    except OSError:
        return 0.0
    rows = data.count(b"\n") - 1  # less the header
    return (data.rindex(b"\n") + 1) / (rows + 1) if rows > 0 else 0.0


def size_words(n: float) -> str:
    """Bytes as a person reads them: 812 B, 64 KB, 1.2 GB (powers of 1000)."""
    unit = "B"
    for bigger in ("KB", "MB", "GB"):
        if n < 1000:
            break
        n, unit = n / 1000, bigger
    return f"{n:.0f} {unit}" if n >= 100 or unit == "B" else f"{n:.1f} {unit}"


def use_color(stream: TextIO) -> bool:
    """Colour for ``stream``: never with ``NO_COLOR`` set, always with ``FORCE_COLOR`` set (not "0"),
    else when it is a terminal (https://no-color.org, https://force-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return is_terminal(stream)


def _columns(stream: TextIO) -> int:
    """The terminal's width: $COLUMNS, else the stream's terminal, else 80."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        cols = 0
    return cols if cols > 0 else 80
