"""Errors a user sees as one line, never as a traceback.

The message is made printable when the error is made (``preflight.printable``): a path or a name in
it may hold a newline or an escape sequence, and ``str(exc)`` reaches a terminal too (an uncaught
error's traceback line, a log).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import ClassVar

import click

from preflight.printable import printable, printable_text


class PreflightError(click.ClickException):
    """Bad input, bad usage or bad config: one line naming the file and what to do. Exit code 2."""

    exit_code = 2
    _safe: ClassVar[Callable[[str], str]] = staticmethod(printable)

    def __init__(self, message: str, path: object | None = None) -> None:
        self.path = None if path is None else str(path)
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


class InputError(str):
    """An input that could not be checked, as ``Report.errors`` holds it: the error line itself (a
    ``str``, as before) and the path it names (``path``; None when unknown). JSON writes it as
    ``{"path": ..., "message": ...}``."""

    path: str | None

    def __new__(cls, message: str, path: str | None = None) -> InputError:
        self = super().__new__(cls, message)
        self.path = path
        return self

    def __reduce__(self) -> tuple:  # pickled as itself (a worker process's result), path included
        return (InputError, (str(self), self.path))


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
