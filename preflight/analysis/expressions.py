"""Expressions, evaluated to ``Val``s: names through the frame, attributes through classes, and
calls through the torch vocabulary (an activation, a loss, a DataLoader) or into local code.
Each expression type has its handler in ``_EXPRESSIONS``; names the vocabulary treats specially
(``torch.nn.Sequential``, ``DataLoader``, ...) theirs in ``_QUALIFIED``."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from preflight.analysis import names as n
from preflight.analysis.facts import LossPair, call_hint
from preflight.analysis.project import MODULE_REF
from preflight.analysis.scope import Frame
from preflight.analysis.state import MAX_DEPTH, FlowState
from preflight.analysis.syntax import kw_true, source_of, str_constant
from preflight.analysis.values import UNKNOWN, Act, Val, join, set_entries


def _is_loss(callee: Val) -> bool:
    return callee.loss is not None or (callee.qual is not None and n.canonical(callee.qual) in n.LOSS_FUNCS)


def _then_log(x: Val, how: str) -> Val:
    """``log`` of a softmax output is a log-softmax output."""
    if x.act is not None and x.act.kind == n.SOFTMAX:
        return Val(act=replace(x.act, kind=n.LOG_SOFTMAX, how=x.act.how + how))
    return UNKNOWN


class Expressions(FlowState):
    def eval(self, e: ast.expr | None, f: Frame, depth: int = 0) -> Val:
        if e is None:
            return UNKNOWN
        if depth > MAX_DEPTH:
            self._scan_calls(e, f)
            return UNKNOWN
        handler = _EXPRESSIONS.get(type(e), Expressions._expr_children)
        return handler(self, e, f, depth + 1)

    def _expr_children(self, e: ast.expr, f: Frame, d: int) -> Val:
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self.eval(child, f, d)
        return UNKNOWN

    def _name(self, e: ast.Name, f: Frame, d: int) -> Val:
        if f.is_self(e.id) and f.cls is not None:
            own = f.env.get(e.id)
            return own if own is not None and own.cls is not None else Val(cls=f.cls.name)
        return f.lookup(e.id)

    def _constant(self, e: ast.Constant, f: Frame, d: int) -> Val:
        return Val(const=repr(e.value)) if e.value is None or isinstance(e.value, bool) else UNKNOWN

    def _attribute(self, e: ast.Attribute, f: Frame, d: int) -> Val:
        return self.attr_of(self.eval(e.value, f, d), e.attr, f)

    def _items(self, e: ast.Tuple | ast.List, f: Frame, d: int) -> Val:
        return Val(items=tuple(self._arg(x, f, d) for x in e.elts))

    def _arg(self, x: ast.expr, f: Frame, d: int) -> Val:
        if isinstance(x, ast.Starred):
            self.eval(x.value, f, d)
            return UNKNOWN
        return self.eval(x, f, d)

    def _subscript(self, e: ast.Subscript, f: Frame, d: int) -> Val:
        base = self.eval(e.value, f, d)
        self.eval(e.slice, f, d)
        if base.act is not None:
            return Val(act=base.act)  # a slice of probabilities is still probabilities
        if base.items is not None and isinstance(e.slice, ast.Constant) and isinstance(e.slice.value, int):
            i = e.slice.value
            if -len(base.items) <= i < len(base.items):
                return base.items[i]
        return UNKNOWN

    def _if_exp(self, e: ast.IfExp, f: Frame, d: int) -> Val:
        self.eval(e.test, f, d)
        return join(self.eval(e.body, f, d), self.eval(e.orelse, f, d))

    def _dict(self, e: ast.Dict, f: Frame, d: int) -> Val:
        entries: dict[str, tuple[str, str]] | None = {}
        for k, v in zip(e.keys, e.values):
            if k is not None:
                self.eval(k, f, d)
            vv = self.eval(v, f, d)
            key = str_constant(k)
            if vv.loader is not None and key is not None:
                self.hint(vv.loader, key, f, f"{{{key!r}: ...}}")
            entries = _add_entry(entries, key if k is not None else None, vv)
        return Val(entries=tuple((k, v, c) for k, (v, c) in entries.items())) if entries is not None else UNKNOWN

    def _named(self, e: ast.NamedExpr, f: Frame, d: int) -> Val:
        v = self.eval(e.value, f, d)
        self.assign(e.target, v, f)
        return v

    def _lambda(self, e: ast.Lambda, f: Frame, d: int) -> Val:
        return UNKNOWN  # its body runs when called; not followed

    def _comprehension(self, e: ast.expr, f: Frame, d: int) -> Val:
        self._scan_calls(e, f)
        return UNKNOWN

    def _await(self, e: ast.Await, f: Frame, d: int) -> Val:
        return self.eval(e.value, f, d)

    def _scan_calls(self, e: ast.AST, f: Frame) -> None:
        """Expressions not followed (comprehensions, very deep nesting): still see their loss calls."""
        for node in ast.walk(e):
            if isinstance(node, ast.Call):
                callee = self.cheap(node.func, f)
                if _is_loss(callee):
                    self._check_loss_call(node, callee, f, MAX_DEPTH)

    def attr_of(self, base: Val, attr: str, f: Frame) -> Val:
        if base.qual is not None and base.qual.startswith(MODULE_REF):
            base = self.resolve_ref(base)
        if base.qual is not None and base.qual.startswith(MODULE_REF):
            return self.module_attr(base.qual[len(MODULE_REF):], attr)
        if base.qual is not None:
            return Val(qual=f"{base.qual}.{attr}")
        if base.cls is not None:
            cinfo = self.classes.get(base.cls)
            if cinfo is not None:
                if f.cls is cinfo and attr in f.self_attrs:
                    return f.self_attrs[attr]
                found = self.class_attr(cinfo, attr, base)
                if attr == "module" and not found.known and not self.has_attr(cinfo, attr):
                    return base  # ``model.module`` of a DataParallel / DDP wrapper: the model itself
                return found
        if base.ctor is not None:
            cinfo = self.classes.get(base.ctor)
            if cinfo is not None and attr in cinfo.body_env:
                return cinfo.body_env[attr]
        return UNKNOWN

    def cheap(self, node: ast.expr, f: Frame) -> Val:
        """A name or a dotted chain of names, resolved without following calls (no recursion)."""
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return UNKNOWN
        v = self._name(node, f, 0)
        for attr in reversed(chain):
            v = self.attr_of(v, attr, f)
        return v

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, e: ast.Call, f: Frame, d: int) -> Val:
        func = e.func
        recv = self.eval(func.value, f, d) if isinstance(func, ast.Attribute) else None
        callee = self.attr_of(recv, func.attr, f) if isinstance(func, ast.Attribute) and recv is not None \
            else self.eval(func, f, d)
        callee = self.resolve_ref(callee)
        args = [self._arg(a, f, d) for a in e.args]
        kwargs = {k.arg: self.eval(k.value, f, d) for k in e.keywords if k.arg is not None}
        for k in e.keywords:
            if k.arg is None:
                self.eval(k.value, f, d)
        if isinstance(func, ast.Name) and func.id == "dict" and not callee.known and not args:
            return self._dict_call(e, kwargs, f)
        if _is_loss(callee):  # a loss applied to a prediction
            self._check_loss_call(e, callee, f, d, args, kwargs)
            return UNKNOWN
        if callee.qual is not None:
            return self._call_qualified(n.canonical(callee.qual), e, args, kwargs, f, d)
        if isinstance(func, ast.Attribute) and recv is not None:
            self._mode_change(func.attr, e, f)
            return self._call_method_of(recv, func.attr, callee, e, args, kwargs, f)
        return self.call_value(callee, e, args, kwargs, f)

    def _dict_call(self, e: ast.Call, kwargs: dict[str, Val], f: Frame) -> Val:
        """``dict(batch_size=64, shuffle=True, **common)``: its entries."""
        entries: dict[str, tuple[str, str]] | None = {}
        for k in e.keywords:
            entries = _add_entry(entries, k.arg, kwargs[k.arg] if k.arg else self.cheap(k.value, f))
        return Val(entries=tuple((k, v, c) for k, (v, c) in entries.items())) if entries is not None else UNKNOWN

    def _call_qualified(self, q: str, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame,
                        d: int) -> Val:
        """A call of something outside the file, by its canonical qualified name."""
        if q in n.ACTIVATION_FUNCS:
            return Val(act=Act(n.ACTIVATION_FUNCS[q], e.lineno, e.col_offset, n.short(q), self.file_of(f)))
        if q in n.ACTIVATION_MODULES:
            return Val(module=Act(n.ACTIVATION_MODULES[q], e.lineno, e.col_offset, n.short(q), self.file_of(f)))
        if q in n.LOSS_MODULES:
            return Val(loss=n.LOSS_MODULES[q], loss_name=n.short(q))
        if n.OTHER_LOSS_RE.match(q):
            return Val(loss=n.OTHER_LOSS, loss_name=n.short(q))
        special = _QUALIFIED.get(q)
        if special is not None:
            return special(self, e, args, kwargs, f, d)
        if q in n.WRAPPERS:
            return args[0] if args else kwargs.get("module", kwargs.get("model", UNKNOWN))
        if q in n.APPLY_FUNCS and args:
            return self.call_value(args[0], e, args[1:2], {}, f)
        if q in n.SUPERVISED_TRAINERS:
            self._library_loop(e, args[0] if args else kwargs.get("model", UNKNOWN),
                               args[2] if len(args) > 2 else kwargs.get("loss_fn", UNKNOWN), f)
        if q in n.HF_TRAINERS and "compute_loss_func" in kwargs:
            self._library_loop(e, args[0] if args else kwargs.get("model", UNKNOWN), kwargs["compute_loss_func"], f)
        if q in n.SHAPE_FUNCS:
            x = args[0] if args else kwargs.get("input", UNKNOWN)
            return Val(act=x.act) if x.act is not None else UNKNOWN
        return Val(inst=q, hint=call_hint(e))

    def _torch_log(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame, d: int) -> Val:
        return _then_log(args[0] if args else UNKNOWN, " then torch.log")

    def _new_dataloader(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame, d: int) -> Val:
        return Val(loader=self.dataloader(e, args, kwargs, f), inst=n.DATALOADER)

    def _load_dataset(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame, d: int) -> Val:
        if kw_true(e, "streaming"):
            return Val(inst="datasets.IterableDataset")
        return Val(inst="datasets.load_dataset", hint=call_hint(e))

    def _call_method_of(self, recv: Val, name: str, callee: Val, e: ast.Call, args: list[Val],
                        kwargs: dict[str, Val], f: Frame) -> Val:
        """``recv.name(...)``: a local method, a module's own method, or a tensor method."""
        if recv.cls is not None and self.has_method(recv.cls, name):
            return self.call_method(self.classes[recv.cls], name, recv, args, kwargs, f.call_depth)
        wrapped = self._wrapping_method(recv, name, e, args, kwargs, f)
        if wrapped is not None:
            return wrapped
        if name == "forward" and recv.module is not None:
            return Val(act=recv.module)
        if callee.known:
            return self.call_value(callee, e, args, kwargs, f)
        if recv.cls is not None or recv.module is not None or recv.loss is not None or recv.ctor is not None:
            return UNKNOWN
        if name in n.ACTIVATION_METHODS:
            return Val(act=Act(n.ACTIVATION_METHODS[name], e.lineno, e.col_offset, f".{name}()", self.file_of(f)))
        if name in n.SHAPE_METHODS and recv.act is not None:
            return Val(act=recv.act)
        if name == "log":
            return _then_log(recv, " then .log()")
        return UNKNOWN

    def _wrapping_method(self, recv: Val, name: str, e: ast.Call, args: list[Val], kwargs: dict[str, Val],
                         f: Frame) -> Val | None:
        """Methods that return their receiver or their arguments: ``loss.to(device)``, ``model.cuda()``,
        ``fabric.setup(model, opt)``, ``accelerator.prepare(...)``; ``kw.update(...)`` on a dict."""
        if name in n.MODULE_SELF_METHODS and (recv.module is not None or recv.cls is not None or recv.loss is not None
                                              or (recv.inst is not None and recv.inst != n.DATALOADER)):
            return recv
        if name in n.SETUP_METHODS and recv.inst is not None and n.canonical(recv.inst).startswith(n.SETUP_OWNERS):
            if name in ("setup_module", "prepare_model") or len(args) == 1:
                return args[0] if args else UNKNOWN
            return Val(items=tuple(args))
        if name == "update" and recv.entries is not None and isinstance(e.func, ast.Attribute) \
                and isinstance(e.func.value, ast.Name):
            new = _update_entries(e, args, kwargs)
            f.env[e.func.value.id] = Val(entries=set_entries(recv.entries, new)) if new is not None else UNKNOWN
            return UNKNOWN
        return None

    def call_value(self, callee: Val, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> Val:
        if callee.module is not None:
            return Val(act=callee.module)
        if callee.cls is not None:
            cinfo = self.classes.get(callee.cls)
            if cinfo is not None and self.has_method(cinfo.name, "forward"):
                return self.call_method(cinfo, "forward", callee, args, kwargs, f.call_depth)
            return UNKNOWN
        if callee.ctor is not None:
            cinfo = self.classes.get(callee.ctor)
            if cinfo is None:
                return UNKNOWN
            if self.is_iterable_dataset(cinfo):
                return Val(cls=cinfo.name, inst=n.ITERABLE_DATASET, hint=call_hint(e))
            # the constructor's arguments travel with the instance (``Discriminator(f=torch.sigmoid)``)
            passed = bool(e.args or e.keywords)
            return Val(cls=cinfo.name, hint=call_hint(e), cargs=tuple(args) if passed else None,
                       ckwargs=tuple(sorted(kwargs.items())) if passed else None)
        if callee.func is not None:
            info = self.funcs.get(callee.func)
            if info is not None:
                return self.call_function(info, args, kwargs, f.call_depth)
        return UNKNOWN

    def _check_loss_call(self, e: ast.Call, callee: Val, f: Frame, d: int,
                         args: list[Val] | None = None, kwargs: dict[str, Val] | None = None) -> None:
        if callee.loss is not None:
            kind, name = callee.loss, callee.loss_name or callee.loss
        else:
            q = n.canonical(callee.qual or "")
            kind, name = n.LOSS_FUNCS[q], n.short(q)
        if kind == n.OTHER_LOSS:
            return
        if e.args and not isinstance(e.args[0], ast.Starred):
            node: ast.expr | None = e.args[0]
            pred = args[0] if args is not None else self.eval(node, f, d)
        else:
            node = next((k.value for k in e.keywords if k.arg == "input"), None)
            if node is None:
                return
            pred = kwargs.get("input", UNKNOWN) if kwargs is not None else self.eval(node, f, d)
        if pred.act is None or node is None:
            return
        self.record_pair(pred, kind, name, e, source_of(node), f)

    def record_pair(self, pred: Val, kind: str, name: str, e: ast.Call, arg: str, f: Frame) -> None:
        """A loss fed an activation at call ``e``; on an evaluation path only until a training path reaches it.
        A loss called in an imported module's code is that module's finding, not this file's."""
        if pred.act is None or not self.own(f) or (e.lineno, e.col_offset) in self.metric_sites():
            return
        key = (e.lineno, e.col_offset, pred.act.kind + kind)
        old = self.pairs.get(key)
        if old is None:
            self.pairs[key] = LossPair(pred.act, kind, name, e.lineno, e.col_offset,
                                       getattr(e, "end_lineno", e.lineno) or e.lineno, arg, eval_only=self.eval_ctx)
        elif old.eval_only and not self.eval_ctx:
            self.pairs[key] = replace(old, eval_only="")

    def _mode_change(self, name: str, e: ast.Call, f: Frame) -> None:
        """``model.eval()`` puts the rest of the function on an evaluation path; ``model.train()`` ends it."""
        if name == "eval" and not e.args and not e.keywords:
            self.eval_ctx = self.eval_ctx or f"after `{source_of(e)}`"
        elif name == "train" and (not e.args or (isinstance(e.args[0], ast.Constant) and e.args[0].value is True)):
            self.eval_ctx = ""
        elif name == "train" and isinstance(e.args[0], ast.Constant) and e.args[0].value is False:
            self.eval_ctx = self.eval_ctx or f"after `{source_of(e)}`"

    def _library_loop(self, e: ast.Call, model: Val, loss: Val, f: Frame) -> None:
        """A library training loop handed a model and a loss (ignite's ``create_supervised_trainer``,
        HF ``Trainer(compute_loss_func=...)``): the loss is called with the model's output."""
        out = self.call_value(model, e, [UNKNOWN], {}, f)
        if out.act is None:
            return
        if loss.loss is not None and loss.loss != n.OTHER_LOSS:
            self.record_pair(out, loss.loss, loss.loss_name or loss.loss, e, f"{source_of(e.func)}(...) output", f)
        elif loss.qual is not None and n.canonical(loss.qual) in n.LOSS_FUNCS:
            q = n.canonical(loss.qual)
            self.record_pair(out, n.LOSS_FUNCS[q], n.short(q), e, f"{source_of(e.func)}(...) output", f)
        elif loss.func is not None and loss.func in self.funcs:
            self.call_function(self.funcs[loss.func], [out, UNKNOWN], {}, f.call_depth)

    def _sequential(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame, d: int) -> Val:
        """``nn.Sequential(...)``: a module whose output is its last module's."""
        if not e.args:
            return Val(inst=n.SEQUENTIAL)
        if isinstance(e.args[-1], ast.Starred):
            inner = self.eval(e.args[-1].value, f, d)
            if inner.items:
                last = inner.items[-1]
                return Val(module=last.module) if last.module is not None else Val(inst=n.SEQUENTIAL)
            return Val(inst=n.SEQUENTIAL)
        last = args[-1]
        if len(args) == 1 and isinstance(e.args[0], ast.Call):
            pair_module = self._ordered_dict_last(e.args[0], f, d)
            if pair_module is not None:
                last = pair_module
        if last.module is not None:
            return Val(module=last.module)
        if last.cls is not None:
            out = self.call_value(last, e, [], {}, f)
            if out.act is not None:
                return Val(module=out.act)
        return Val(inst=n.SEQUENTIAL)

    def _ordered_dict_last(self, inner: ast.Call, f: Frame, d: int) -> Val | None:
        """``Sequential(OrderedDict([...]))``: the last pair's module."""
        if inner.args and isinstance(inner.args[0], (ast.List, ast.Tuple)) and inner.args[0].elts:
            pair = inner.args[0].elts[-1]
            if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                return self.eval(pair.elts[1], f, d)
        return None


_Entries = dict[str, tuple[str, str]]


def _add_entry(entries: _Entries | None, key: str | None, v: Val) -> _Entries | None:
    """One ``key: value`` (or ``**other`` when ``key`` is None) of a dict being built; None once unknown."""
    if entries is None:
        return None
    if key is None:
        if v.entries is None:
            return None
        entries.update({k: (val, c) for k, val, c in v.entries})
        return entries
    entries[key] = (v.const or "?", "")
    return entries


def _update_entries(e: ast.Call, args: list[Val], kwargs: dict[str, Val]) -> _Entries | None:
    """The keys ``d.update(other)`` / ``d.update(k=v)`` sets; None when they are not known."""
    if any(k.arg is None for k in e.keywords) or len(args) > 1:
        return None
    if not args:
        return {k: (v.const or "?", "") for k, v in kwargs.items()}
    return {k: (v, c) for k, v, c in args[0].entries} if args[0].entries is not None else None


_ExprHandler = Callable[[Expressions, Any, Frame, int], Val]
_EXPRESSIONS: dict[type[ast.expr], _ExprHandler] = {
    ast.Name: Expressions._name,
    ast.Constant: Expressions._constant,
    ast.Attribute: Expressions._attribute,
    ast.Call: Expressions._call,
    ast.Tuple: Expressions._items,
    ast.List: Expressions._items,
    ast.Subscript: Expressions._subscript,
    ast.IfExp: Expressions._if_exp,
    ast.Dict: Expressions._dict,
    ast.NamedExpr: Expressions._named,
    ast.Lambda: Expressions._lambda,
    ast.ListComp: Expressions._comprehension,
    ast.SetComp: Expressions._comprehension,
    ast.GeneratorExp: Expressions._comprehension,
    ast.DictComp: Expressions._comprehension,
    ast.Await: Expressions._await,
}

_QualifiedHandler = Callable[[Expressions, ast.Call, list[Val], dict[str, Val], Frame, int], Val]
_QUALIFIED: dict[str, _QualifiedHandler] = {
    n.SEQUENTIAL: Expressions._sequential,
    "torch.log": Expressions._torch_log,
    n.DATALOADER: Expressions._new_dataloader,
    "datasets.load_dataset": Expressions._load_dataset,
}
