"""A one-line progress display on stderr: files and rows read, probes run.

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
        self._draw(force=True)

    def rows_read(self, n: int) -> None:
        if not self.enabled:
            return
        self.rows += n
        self._draw()

    def file_done(self, display: str) -> None:
        if not self.enabled:
            return
        self.files_done += 1
        self.current, self.action = display, "checked"
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
        if self.probes:
            parts.append(f"{self.probes} probe{'s' * (self.probes != 1)}")
        if self.current:
            parts.append(f"{self.action} {self.current}")
        return printable("preflight " + " | ".join(parts))  # a file name may hold an escape sequence

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
