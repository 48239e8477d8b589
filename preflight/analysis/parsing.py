"""Building and walking syntax trees fast: ``parse`` and ``paused_gc``.

A large file's syntax tree is millions of objects, and the files of a project stay alive together
(``project.MODULES`` keeps each walk for the files that import it). With Python's cyclic garbage
collector running, every few thousand allocations it scans the young objects and, ever more often
as the live set grows, all of them: on the 83 parsed files of the torch package that made parsing
and walking 2-4x slower than the work itself. Syntax trees hold no reference cycles (a node refers
only to its children), so reference counting frees them; the collector is paused while a file is
parsed and analysed and resumes afterwards, collecting whatever cycles the walk left.
"""

from __future__ import annotations

import ast
import gc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off inside the block, and back on after it if it was on (so
    nested blocks leave it off until the outermost one ends)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def gc_paused(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run inside ``paused_gc()``."""
    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_gc():
            return func(*args, **kwargs)
    return run


@gc_paused
def parse(text: str, filename: str) -> ast.Module:
    """``ast.parse`` with the collector paused and compile-time warnings (invalid escapes and the
    like) silenced; raises what ``ast.parse`` raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename)
