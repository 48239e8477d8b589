"""Local classes and functions, followed into: a class's attributes from every method that assigns
them, methods and functions run with their call's argument values (memoised per binding, a bounded
number of bindings and levels)."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Iterator

from preflight.analysis.facts import is_eval_name
from preflight.analysis.scope import ClassInfo, Frame, FuncInfo, Scope, bind
from preflight.analysis.state import MAX_CALL_DEPTH, MAX_CONTEXTS, FlowState
from preflight.analysis.syntax import (
    FunctionNode,
    assigns_self_attr,
    falls_off_end,
    is_generator,
    source_of,
)
from preflight.analysis.values import UNKNOWN, Env, Val, join, join_all


class Calls(FlowState):
    def mro(self, cname: str) -> Iterator[ClassInfo]:
        """The local classes ``cname`` inherits from, itself first (breadth first)."""
        seen = set()
        stack = [cname]
        while stack:
            c = stack.pop(0)
            if c in seen or c not in self.classes:
                continue
            seen.add(c)
            info = self.classes[c]
            yield info
            stack.extend(b.ctor for b in info.bases if b.ctor)

    def has_method(self, cname: str, name: str) -> bool:
        return any(name in c.methods for c in self.mro(cname))

    def has_attr(self, cinfo: ClassInfo, attr: str) -> bool:
        return attr in self._class_attrs(cinfo) or any(attr in c.body_env or attr in c.methods
                                                       for c in self.mro(cinfo.name))

    def class_attr(self, cinfo: ClassInfo, attr: str, base: Val | None = None) -> Val:
        attrs = self._class_attrs(cinfo, base)
        if attr in attrs:
            return attrs[attr]
        for c in self.mro(cinfo.name):
            if attr in c.body_env:
                return c.body_env[attr]
            if attr in c.methods:
                return UNKNOWN  # a bound method: followed at the call
        return UNKNOWN

    def _class_attrs(self, cinfo: ClassInfo, base: Val | None = None) -> dict[str, Val]:
        """``self.`` attributes joined over every assignment in every method of the class; ``__init__``
        runs with the constructor's arguments when the instance carries them (``base.cargs``)."""
        self_val = base if base is not None and base.cls == cinfo.name and base.cargs is not None \
            else Val(cls=cinfo.name)
        key = (cinfo.name, self_val.cargs, self_val.ckwargs)
        if key in self._attrs:
            return self._attrs[key]
        if key in self._attrs_busy or len(self._attrs) > 4 * MAX_CONTEXTS * max(1, len(self.classes)):
            return {}
        self._attrs_busy.add(key)
        collected: dict[str, list[Val]] = {}
        ctor_args = (list(self_val.cargs or ()), dict(self_val.ckwargs or ()))
        for c in self.mro(cinfo.name):
            for mname, mnode in c.methods.items():
                if assigns_self_attr(mnode):
                    args, kwargs = ctor_args if mname == "__init__" else ([], {})
                    self._collect_attrs(c, mnode, self_val, collected, args, kwargs)
        self._attrs_busy.discard(key)
        result = {k: join_all(vs) for k, vs in collected.items()}
        self._attrs[key] = result
        return result

    def _collect_attrs(self, c: ClassInfo, mnode: FunctionNode, self_val: Val,
                       collected: dict[str, list[Val]], args: list[Val], kwargs: dict[str, Val]) -> None:
        frame = self._method_frame(c, mnode, self_val, args, kwargs, 0)
        if frame is None:
            return
        frame.collect_attrs = collected
        with contextlib.suppress(RecursionError):
            self.exec_block(mnode.body, frame)

    def _method_frame(self, cinfo: ClassInfo, node: FunctionNode, self_val: Val, args: list[Val],
                      kwargs: dict[str, Val], call_depth: int) -> Frame | None:
        params = node.args.posonlyargs + node.args.args
        decos = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if "staticmethod" in decos:
            self_name, rest = None, params
        elif not params:
            return None
        else:
            self_name, rest = params[0].arg, params[1:]
        bound = "classmethod" not in decos
        env: Env = {}
        if self_name and bound:
            env[self_name] = self_val
        bind(env, rest, node.args, args, kwargs)
        self._defaults(env, rest, node.args, args, kwargs, cinfo.globals)
        return Frame(env=env, globals=cinfo.globals, cls=cinfo if bound else None,
                     self_name=self_name if bound else None,
                     func_name=f"{cinfo.name}.{node.name}", returns=[], call_depth=call_depth + 1)

    def call_method(self, cinfo: ClassInfo, name: str, self_val: Val, args: list[Val], kwargs: dict[str, Val],
                    call_depth: int, standalone: bool = False) -> Val:
        owner = next((c for c in self.mro(cinfo.name) if name in c.methods), None)
        if owner is None:
            return UNKNOWN
        node = owner.methods[name]
        key = ("m", cinfo.name, owner.name, name, self_val.cargs, self_val.ckwargs, tuple(args),
               tuple(sorted(kwargs.items())))
        return self._run(key, f"{cinfo.name}.{name}", node, call_depth, standalone,
                         lambda: self._method_frame(owner, node, self_val, args, kwargs, call_depth))

    def call_function(self, info: FuncInfo, args: list[Val], kwargs: dict[str, Val], call_depth: int,
                      standalone: bool = False) -> Val:
        key = ("f", info.name, tuple(args), tuple(sorted(kwargs.items())))

        def frame() -> Frame:
            env: Env = {}
            params = info.node.args.posonlyargs + info.node.args.args
            bind(env, params, info.node.args, args, kwargs)
            self._defaults(env, params, info.node.args, args, kwargs, info.globals)
            return Frame(env=env, globals=info.globals, func_name=info.name, returns=[],
                         call_depth=call_depth + 1)

        return self._run(key, info.name, info.node, call_depth, standalone, frame)

    def _defaults(self, env: Env, params: list[ast.arg], a: ast.arguments, args: list[Val], kwargs: dict[str, Val],
                  scope: Scope) -> None:
        """Parameters not passed take their default (``act=nn.Sigmoid()``), evaluated where the def is."""
        if not a.defaults and not any(a.kw_defaults):
            return
        frame = Frame(env={}, globals=scope)
        first = len(params) - len(a.defaults)
        for i, (p, default) in enumerate(zip(params[first:], a.defaults), first):
            if i >= len(args) and p.arg not in kwargs and _plain_default(default):
                env[p.arg] = self.eval(default, frame)
        for p, kd in zip(a.kwonlyargs, a.kw_defaults):
            if kd is not None and p.arg not in kwargs and _plain_default(kd):
                env[p.arg] = self.eval(kd, frame)

    def _admit(self, key: tuple, fname: str, call_depth: int, standalone: bool) -> bool:
        """Whether this call is followed: not recursive, not too deep, not too many bindings."""
        if key in self._busy or (not standalone and call_depth >= MAX_CALL_DEPTH):
            return False
        if standalone:
            return True
        n = self._contexts.get(fname, 0)
        if n >= MAX_CONTEXTS:
            return False
        self._contexts[fname] = n + 1
        return True

    def _run(self, key: tuple, fname: str, node: FunctionNode, call_depth: int, standalone: bool,
             make_frame: Callable[[], Frame | None]) -> Val:
        saved_eval = self.eval_ctx
        if not saved_eval:
            if is_eval_name(node.name):
                self.eval_ctx = f"in `{node.name}()`"
            elif self._no_grad_decorated(node):
                self.eval_ctx = f"in `{node.name}()` (decorated no_grad)"
        key = (*key, self.eval_ctx)
        try:
            if key in self._memo:
                return self._memo[key]
            if not self._admit(key, fname, call_depth, standalone):
                return UNKNOWN
            frame = make_frame()
            if frame is None:
                return UNKNOWN
            self._busy.add(key)
            try:
                self.exec_block(node.body, frame)
            finally:
                self._busy.discard(key)
        finally:
            self.eval_ctx = saved_eval
        result = _result_of(node, frame.returns or [])
        self._memo[key] = result
        return result


    def _no_grad_decorated(self, node: FunctionNode) -> bool:
        """``@torch.no_grad()`` / ``@torch.inference_mode()`` on the def (read from syntax)."""
        return any(source_of(d.func if isinstance(d, ast.Call) else d).split(".")[-1] in ("no_grad", "inference_mode")
                   for d in node.decorator_list)


def _plain_default(node: ast.expr) -> bool:
    """A default worth evaluating: a name, an attribute chain or a call (not a literal)."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Call))


def _result_of(node: FunctionNode, returns: list[Val]) -> Val:
    """What a call returns: unknown for coroutines and generators, and for a body that can fall off
    its end without a return."""
    if isinstance(node, ast.AsyncFunctionDef) or is_generator(node) or not returns:
        return UNKNOWN
    result = join_all(returns)
    return join(result, UNKNOWN) if falls_off_end(node) else result
