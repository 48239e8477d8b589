"""Building and walking syntax trees fast: ``parse``, ``paused_gc``, ``walk_statements``, ``contains``
and ``Visitor``.

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
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

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


def walk_statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The statements of ``tree`` (and the except handlers and match cases that hold statements),
    in ``ast.walk``'s order, without walking the expressions that make up most of a tree (no
    statement sits inside an expression)."""
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        yield node
        for name in _STATEMENT_FIELDS:
            todo.extend(getattr(node, name, ()))


# the fields that hold statements, handlers and cases, in the order every node type's ``_fields`` has them
_STATEMENT_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")


def contains(node: ast.AST, kinds: type | tuple[type, ...]) -> bool:
    """Whether ``node`` or any node below it is one of ``kinds``: ``any(isinstance(n, kinds) for n
    in ast.walk(node))``, depth first and without the generators, stopping at the first found."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            return True
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST))
    return False


class Visitor(ast.NodeVisitor):
    """``ast.NodeVisitor`` with its dispatch looked up once per node type, a generic visit that
    reads the fields directly, and no visit at all of a leaf it has no method for (a name, a
    constant, an operator, a load/store context: visiting one would do nothing): the same visits in
    the same order, at about half the cost on a large tree. (A subclass's ``visit_<Type>`` methods
    are found as ``NodeVisitor`` finds them; ``NodeVisitor``'s own ``visit_Constant``, kept for the
    node types Python 3.8 removed, is not used: it only ever visits the children. A subclass that
    overrides ``generic_visit`` sees every node.)"""

    _handlers: dict[type, Callable[[Any, Any], Any] | None]
    _inert: frozenset[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        inert: set[type] = set()
        if cls.generic_visit is Visitor.generic_visit:
            inert = {k for k in _LEAVES if cls._handler(k) is None}
            if ast.Name not in inert and cls._handler(ast.Name) is None and inert >= _CONTEXTS:
                inert.add(ast.Name)  # its only child is its context
        cls._inert = frozenset(inert)

    @classmethod
    def _handler(cls, kind: type) -> Callable[[Any, Any], Any] | None:
        method = getattr(cls, "visit_" + kind.__name__, None)
        return None if method is None or method is ast.NodeVisitor.visit_Constant else method

    def visit(self, node: ast.AST) -> Any:
        kind = type(node)
        handlers = type(self)._handlers
        if kind not in handlers:
            handlers[kind] = self._handler(kind)
        handler = handlers[kind]
        if handler is None:
            self.generic_visit(node)
            return None
        return handler(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        inert = self._inert
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and type(item) not in inert:
                        self.visit(item)
            elif isinstance(value, ast.AST) and type(value) not in inert:
                self.visit(value)


# node types with no node below them (and Name, whose one child is its context)
_CONTEXTS = frozenset({ast.Load, ast.Store, ast.Del})
_LEAVES = frozenset({ast.Constant}.union(*(base.__subclasses__() for base in (
    ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop))))
