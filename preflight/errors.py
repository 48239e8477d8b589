"""Errors a user sees as one line, never as a traceback."""

from __future__ import annotations

import click

from preflight.printable import printable, printable_text


class PreflightError(click.ClickException):
    """Bad input, bad usage or bad config: one line naming the file and what to do. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, path: object | None = None) -> None:
        if path is not None:
            message = f"{path}: {message}"
        super().__init__(message)

    def format_message(self) -> str:
        return printable(self.message)  # a path or name in it may hold a newline or an escape sequence


class FindingsError(PreflightError):
    """Raised by ``Report.raise_for_findings()``: the setup has problems worth stopping for. Exit code 1.
    Its message is a heading and one line per finding (each line made printable where it is made)."""

    exit_code = 1

    def format_message(self) -> str:
        return printable_text(self.message)
