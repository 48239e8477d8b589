"""The semantic model's scopes (as ruff's ``SemanticModel``): frames, what names a body sees,
and the local classes and functions the interpreter follows."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from preflight.analysis.syntax import FunctionNode
from preflight.analysis.values import UNKNOWN, Env, Val

MODULE = "<module>"  # the function name of top-level code


class Scope:
    """The names a function body sees besides its own: the enclosing frame's names *when looked up*
    (module-level functions see globals assigned after their ``def``), then that frame's scope."""

    def __init__(self, frame: Frame | None) -> None:
        self.frame = frame

    def get(self, name: str, default: Val | None = None) -> Val | None:
        fr = self.frame
        if fr is None:
            return default
        if name in fr.env:
            return fr.env[name]
        return fr.globals.get(name, default)


EMPTY_SCOPE = Scope(None)


@dataclass
class ClassInfo:
    name: str
    node: ast.ClassDef
    bases: list[Val]
    methods: dict[str, FunctionNode]
    body_env: Env  # class-level assignments
    globals: Scope


@dataclass
class FuncInfo:
    name: str
    node: FunctionNode
    globals: Scope


@dataclass
class Frame:
    env: Env
    globals: Scope
    cls: ClassInfo | None = None  # the class whose method this is (``self``)
    self_name: str | None = None
    func_name: str = MODULE
    returns: list[Val] | None = None
    self_attrs: dict[str, Val] = field(default_factory=dict)  # assigned in this method so far
    collect_attrs: dict[str, list[Val]] | None = None
    call_depth: int = 0

    def lookup(self, name: str) -> Val:
        if name in self.env:
            return self.env[name]
        return self.globals.get(name, UNKNOWN) or UNKNOWN

    def is_self(self, name: str) -> bool:
        """``name`` is this method's ``self`` (so it stands for an instance of ``self.cls``)."""
        return bool(self.self_name) and name == self.self_name and self.cls is not None

    @property
    def at_module(self) -> bool:
        return self.func_name == MODULE


def bind(env: Env, params: list[ast.arg], a: ast.arguments, args: list[Val], kwargs: dict[str, Val]) -> None:
    """Bind a call's argument values to a function's parameters (unknown where not passed)."""
    for i, p in enumerate(params):
        env[p.arg] = args[i] if i < len(args) else kwargs.get(p.arg, UNKNOWN)
    for p in a.kwonlyargs:
        env[p.arg] = kwargs.get(p.arg, UNKNOWN)
    if a.vararg:
        env[a.vararg.arg] = UNKNOWN
    if a.kwarg:
        env[a.kwarg.arg] = UNKNOWN
