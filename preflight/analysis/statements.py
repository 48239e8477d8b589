"""Statements, run in order: imports bind qualified names, assignments bind values, and the
branches of ``if`` / loops / ``try`` / ``match`` join (a value survives only where every branch agrees).
Each statement type has its handler in ``_STATEMENTS``; each assignment target type in ``_TARGETS``."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from preflight.analysis import names as n
from preflight.analysis.names import imports_torch
from preflight.analysis.project import MODULE_REF
from preflight.analysis.scope import ClassInfo, Frame, FuncInfo, Scope
from preflight.analysis.state import FlowState
from preflight.analysis.syntax import always_returns, is_main_guard, source_of, str_constant
from preflight.analysis.values import BRANCH, UNKNOWN, Env, Val, join_envs, set_entries


class Statements(FlowState):
    def exec_block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, s: ast.stmt, f: Frame) -> None:
        handler = _STATEMENTS.get(type(s))
        if handler is not None:
            handler(self, s, f)

    # --- bindings ------------------------------------------------------------------------------

    def _import(self, s: ast.Import, f: Frame) -> None:
        for a in s.names:
            if imports_torch(a.name):
                self.imports_torch = True
            bound = a.asname or a.name.split(".")[0]
            local = self.resolve_import(a.name if a.asname else bound, 0)
            if local is not None:  # a module of the project: its names are followed
                f.env[bound] = Val(qual=MODULE_REF + local)
            else:
                f.env[bound] = Val(qual=a.name if a.asname else bound)

    def _import_from(self, s: ast.ImportFrom, f: Frame) -> None:
        local = self.resolve_import(s.module, s.level)
        if local is not None:
            for a in s.names:
                if a.name == "*":
                    continue
                f.env[a.asname or a.name] = Val(qual=f"{MODULE_REF}{local}\0{a.name}")  # looked up when used
            return
        if s.level or not s.module:
            for a in s.names:
                f.env[a.asname or a.name] = UNKNOWN
            return
        if imports_torch(s.module):
            self.imports_torch = True
        for a in s.names:
            if a.name != "*":
                f.env[a.asname or a.name] = Val(qual=f"{s.module}.{a.name}")

    def _def(self, s: ast.FunctionDef | ast.AsyncFunctionDef, f: Frame) -> None:
        key = self._func_key(s, f)
        self.funcs.setdefault(key, FuncInfo(key, s, Scope(f)))
        f.env[s.name] = Val(func=key)

    def _class(self, s: ast.ClassDef, f: Frame) -> None:
        key = self._func_key(s, f)
        bases = [self.resolve_ref(self.eval(b, f)) for b in s.bases]
        methods = {}
        body_env: Env = {}
        cframe = Frame(env=body_env, globals=Scope(f), func_name=key)
        for stmt in s.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods[stmt.name] = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self.exec_stmt(stmt, cframe)
        self.classes[key] = ClassInfo(key, s, bases, methods, body_env, Scope(f))
        f.env[s.name] = Val(ctor=key)

    def _func_key(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, f: Frame) -> str:
        prefix = self.tag if f.at_module else f"{f.func_name}."
        key = f"{prefix}{node.name}"
        existing = self.funcs.get(key) or self.classes.get(key)
        if existing is not None and existing.node is not node:
            key = f"{key}@{node.lineno}"
        return key

    def _return(self, s: ast.Return, f: Frame) -> None:
        v = self.eval(s.value, f) if s.value is not None else UNKNOWN
        if f.returns is not None:
            f.returns.append(v)

    def _assign(self, s: ast.Assign, f: Frame) -> None:
        v = self.eval(s.value, f)
        for t in s.targets:
            self.assign(t, v, f)

    def _ann_assign(self, s: ast.AnnAssign, f: Frame) -> None:
        if s.value is not None:
            self.assign(s.target, self.eval(s.value, f), f)

    def _aug_assign(self, s: ast.AugAssign, f: Frame) -> None:
        self.eval(s.value, f)
        self.assign(s.target, UNKNOWN, f)

    def _expr(self, s: ast.Expr, f: Frame) -> None:
        self.eval(s.value, f)

    def _delete(self, s: ast.Delete, f: Frame) -> None:
        for t in s.targets:
            if isinstance(t, ast.Name):
                f.env.pop(t.id, None)

    def _stmt_children(self, s: ast.stmt, f: Frame) -> None:
        for child in ast.iter_child_nodes(s):
            if isinstance(child, ast.expr):
                self.eval(child, f)

    # --- control flow --------------------------------------------------------------------------

    def _if(self, s: ast.If, f: Frame) -> None:
        self.eval(s.test, f)
        if f.at_module and is_main_guard(s.test):
            self.in_main = True
            self.branch([s.body, s.orelse], f, source_of(s.test))
            self.in_main = False
            return
        self.branch([s.body, s.orelse], f, source_of(s.test))

    def _for(self, s: ast.For | ast.AsyncFor, f: Frame) -> None:
        it = self.eval(s.iter, f)
        self.assign(s.target, UNKNOWN, f)
        self.mark_trained(s, it, f)
        self.branch([s.body + s.orelse, s.orelse], f)

    def _while(self, s: ast.While, f: Frame) -> None:
        self.eval(s.test, f)
        self.branch([s.body + s.orelse, s.orelse], f)

    def _with(self, s: ast.With | ast.AsyncWith, f: Frame) -> None:
        saved = self.eval_ctx
        for item in s.items:
            self.eval(item.context_expr, f)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, UNKNOWN, f)
            if not self.eval_ctx and self.disables_grad(item.context_expr, f):
                self.eval_ctx = f"under `{source_of(item.context_expr)}`"
        self.exec_block(s.body, f)
        self.eval_ctx = saved

    def disables_grad(self, e: ast.expr, f: Frame) -> bool:
        """``torch.no_grad()``, ``torch.inference_mode()``, ``torch.set_grad_enabled(False)``."""
        if not isinstance(e, ast.Call):
            return False
        callee = self.cheap(e.func, f)
        q = n.canonical(callee.qual) if callee.qual else ""
        if q in n.NO_GRAD:
            return not (e.args and isinstance(e.args[0], ast.Constant) and e.args[0].value is False)
        return (q == "torch.set_grad_enabled" and bool(e.args) and isinstance(e.args[0], ast.Constant)
                and e.args[0].value is False)

    def _try(self, s: ast.Try | ast.TryStar, f: Frame) -> None:
        before = dict(f.env)
        self.exec_block(s.body, f)
        self.exec_block(s.orelse, f)
        envs = [f.env]
        for h in s.handlers:
            saved = f.env
            f.env = dict(before)
            self.exec_block(h.body, f)
            if not always_returns(h.body):  # a handler that re-raises does not reach what follows
                envs.append(f.env)
            f.env = saved
        f.env = join_envs(envs)
        self.exec_block(s.finalbody, f)

    def _match(self, s: ast.Match, f: Frame) -> None:
        self.eval(s.subject, f)
        self.branch([c.body for c in s.cases] + [[]], f)

    def branch(self, bodies: list[list[ast.stmt]], f: Frame, test: str | None = None) -> None:
        """Run each body from the same state and join what the bodies that fall through agree on (a
        body that always returns or raises does not reach what follows). ``test`` (an ``if``'s
        condition) names the branch of a dict key set on one side only."""
        start, start_attrs, start_eval = f.env, f.self_attrs, self.eval_ctx
        envs, attrs, evals = [], [], []
        for body in bodies:
            f.env = dict(start)
            f.self_attrs = dict(start_attrs)
            self.eval_ctx = start_eval
            self.exec_block(body, f)
            if not always_returns(body):
                envs.append(f.env)
                attrs.append(f.self_attrs)
                evals.append(self.eval_ctx)
        if not envs:  # nothing falls through: what follows is unreachable; keep the first body's view
            envs, attrs, evals = [f.env], [f.self_attrs], [self.eval_ctx]
        merged = join_envs(envs)
        if test is not None and len(bodies) == 2:
            _name_branches(merged, envs if len(envs) == 2 else [], test)
        f.env = merged
        f.self_attrs = join_envs(attrs)
        self.eval_ctx = evals[0] if all(e == evals[0] for e in evals) else ""

    # --- assignment targets --------------------------------------------------------------------

    def assign(self, target: ast.expr, v: Val, f: Frame) -> None:
        handler = _TARGETS.get(type(target))
        if handler is not None:
            handler(self, target, v, f)

    def _to_name(self, target: ast.Name, v: Val, f: Frame) -> None:
        old = f.env.get(target.id)
        if v.inst == n.TORCH_LOAD and old is not None and (old.cls or old.module):
            return  # a checkpoint restored into a model's name: still that model
        f.env[target.id] = v
        if v.loader is not None:
            self.hint(v.loader, target.id, f, target.id)

    def _to_items(self, target: ast.Tuple | ast.List, v: Val, f: Frame) -> None:
        elts = target.elts
        items = v.items
        if v.inst == n.TORCH_LOAD:
            items = tuple(v for _ in elts)
        for i, t in enumerate(elts):
            if isinstance(t, ast.Starred):
                self.assign(t.value, UNKNOWN, f)
                items = None
                continue
            sub = items[i] if items is not None and len(items) == len(elts) else UNKNOWN
            self.assign(t, sub, f)

    def _to_attribute(self, target: ast.Attribute, v: Val, f: Frame) -> None:
        base = self.eval(target.value, f)
        if isinstance(target.value, ast.Name) and base.inst and base.inst.startswith(n.LIBRARY_MODELS) \
                and target.attr in n.HEAD_ATTRS and not f.is_self(target.value.id):
            # a library model's head replaced: its output is now the new head's
            f.env[target.value.id] = Val(module=v.module) if v.module is not None else Val(inst=base.inst)
        if v.loader is not None:
            self.hint(v.loader, target.attr, f, target.attr)
        if isinstance(target.value, ast.Name) and f.self_name and target.value.id == f.self_name:
            f.self_attrs[target.attr] = v
            if f.collect_attrs is not None:
                f.collect_attrs.setdefault(target.attr, []).append(v)

    def _to_subscript(self, target: ast.Subscript, v: Val, f: Frame) -> None:
        base = self.eval(target.value, f)
        key = str_constant(target.slice)
        if base.entries is not None and isinstance(target.value, ast.Name):
            new = {key: (v.const or "?", "")} if key else None
            f.env[target.value.id] = Val(entries=set_entries(base.entries, new))
        if v.loader is None:
            return
        if key is not None:
            self.hint(v.loader, key, f, f"{source_of(target.value)}[{key!r}]")
        elif isinstance(target.value, ast.Name):
            self.hint(v.loader, target.value.id, f)

    def _to_starred(self, target: ast.Starred, v: Val, f: Frame) -> None:
        self.assign(target.value, UNKNOWN, f)


def _name_branches(merged: Env, envs: list[Env], test: str) -> None:
    """A dict key set on one branch of ``if test`` only: name that branch as its condition."""
    for name, val in merged.items():
        if not val.entries or not any(c == BRANCH for _, _, c in val.entries):
            continue
        sides = [{k: v for k, v, _ in (e.get(name) or UNKNOWN).entries or ()} for e in envs]
        out = []
        for k, v, c in val.entries:
            if c == BRANCH:
                c = f"only when `not ({test})`" if sides and k not in sides[0] else f"only when `{test}`"
            out.append((k, v, c))
        merged[name] = Val(entries=tuple(out))


_StmtHandler = Callable[[Statements, Any, Frame], None]
_STATEMENTS: dict[type[ast.stmt], _StmtHandler] = {
    ast.Import: Statements._import,
    ast.ImportFrom: Statements._import_from,
    ast.FunctionDef: Statements._def,
    ast.AsyncFunctionDef: Statements._def,
    ast.ClassDef: Statements._class,
    ast.Return: Statements._return,
    ast.Assign: Statements._assign,
    ast.AnnAssign: Statements._ann_assign,
    ast.AugAssign: Statements._aug_assign,
    ast.Expr: Statements._expr,
    ast.If: Statements._if,
    ast.For: Statements._for,
    ast.AsyncFor: Statements._for,
    ast.While: Statements._while,
    ast.With: Statements._with,
    ast.AsyncWith: Statements._with,
    ast.Try: Statements._try,
    ast.TryStar: Statements._try,
    ast.Match: Statements._match,
    ast.Delete: Statements._delete,
    **dict.fromkeys((ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert),
                    Statements._stmt_children),
}

_TargetHandler = Callable[[Statements, Any, Val, Frame], None]
_TARGETS: dict[type[ast.expr], _TargetHandler] = {
    ast.Name: Statements._to_name,
    ast.Tuple: Statements._to_items,
    ast.List: Statements._to_items,
    ast.Attribute: Statements._to_attribute,
    ast.Subscript: Statements._to_subscript,
    ast.Starred: Statements._to_starred,
}
