"""Errors a user sees as one line, never as a traceback.

The message is made printable when the error is made (``preflight.printable``): a path or a name in
it may hold a newline or an escape sequence, and ``str(exc)`` reaches a terminal too (an uncaught
error's traceback line, a log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import click

from preflight.printable import printable, printable_text


class PreflightError(click.ClickException):
    """Bad input, bad usage or bad config: one line naming the file and what to do. Exit code 2."""

    exit_code = 2
    _safe: ClassVar[Callable[[str], str]] = staticmethod(printable)

    def __init__(self, message: str, path: object | None = None) -> None:
        if path is not None:
            message = f"{path}: {message}"
        super().__init__(type(self)._safe(message))

    def format_message(self) -> str:
        return self.message


class FindingsError(PreflightError):
    """Raised by ``Report.raise_for_findings()``: the setup has problems worth stopping for. Exit code 1.
    Its message is a heading and one line per finding (its newlines are its own)."""

    exit_code = 1
    _safe: ClassVar[Callable[[str], str]] = staticmethod(printable_text)
