"""Errors a user sees as one line, never as a traceback."""

from __future__ import annotations

import errno

import click


class PreflightError(click.ClickException):
    """Bad input, bad usage or bad config: one line naming the file and what to do. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, path: object | None = None) -> None:
        if path is not None:
            message = f"{path}: {message}"
        super().__init__(message)

    def format_message(self) -> str:
        return self.message


class FindingsError(PreflightError):
    """Raised by ``Report.raise_for_findings()``: the setup has problems worth stopping for. Exit code 1."""

    exit_code = 1


def os_reason(exc: OSError) -> str:
    """What an ``OSError`` on a path means, in the words of an error line ("cannot be read (permission
    denied)", not the "no such file" a failed existence test says for a folder one may not enter)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return "cannot be read (a symbolic link loop)"
    return f"cannot be read ({(exc.strerror or str(exc)).lower()})"
