"""Who else reads what a fix changes: the activation's output, the model it ends, the loader.

A fix is safe only when the answer is "nobody but the losses it fixes" (see ``preflight.fixing.plan``).
"""

from __future__ import annotations

import ast

from preflight.fixing.index import (
    MODULE_ACTS,
    SourceIndex,
    _assigned,
    _calls_of,
    _held_in,
    _inside,
    _loads,
    last_name,
)


def _argmax_only(ix: SourceIndex, n: ast.AST) -> bool:
    """``x.argmax(1)``, ``torch.argmax(x, 1)``, ``torch.softmax(x, dim=1).argmax(1)``: a read a softmax
    or log_softmax does not change (both keep the order of the logits)."""
    node, holder = n, ix.parent.get(id(n))
    while isinstance(holder, ast.Call) and last_name(holder.func) in ("softmax", "log_softmax") and node in holder.args:
        node, holder = holder, ix.parent.get(id(holder))
    if isinstance(holder, ast.Attribute) and holder.attr == "argmax":
        return True
    return isinstance(holder, ast.Call) and last_name(holder.func) == "argmax" and bool(holder.args) \
        and holder.args[0] is node


def _later_reads(ix: SourceIndex, node: ast.AST, name: str, losses: list[ast.Call], order_kept: bool) -> list[ast.Name]:
    """The reads of ``name`` after ``node`` in its scope, other than the loss calls' (and, where the
    fix keeps the order of the values, other than an ``argmax``)."""
    line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    scope = ix.scope(node)
    loops = {id(p) for p in ix.up(node) if isinstance(p, (ast.For, ast.While, ast.AsyncFor))}

    def after(n: ast.Name) -> bool:
        if n.lineno > line or (n.lineno == line and not _inside(ix, n, node)
                               and n.col_offset >= (node.end_col_offset or 0)):  # type: ignore[attr-defined]
            return True
        # read on the next iteration of a loop that assigns it, or in a function defined earlier
        return ix.scope(n) is not scope or any(id(p) in loops for p in ix.up(n))

    return [n for n in _loads(ix, scope, name) if after(n)
            if not any(_inside(ix, n, c) for c in losses) and not (order_kept and _argmax_only(ix, n))]


def _value_readers(ix: SourceIndex, node: ast.AST, losses: list[ast.Call], order_kept: bool) -> str:
    """"" when the value of ``node`` reaches only the loss calls, else where something else reads it."""
    if any(_inside(ix, node, c) for c in losses):
        return ""
    name = _held_in(ix, node)
    if name is None:
        holder = ix.parent.get(id(node), node)
        text = " ".join(ix.text(holder).split())
        text = text if len(text) <= 48 else text[:45] + "..."
        return f"`{text}` at line {node.lineno} reads it"  # type: ignore[attr-defined]
    others = _later_reads(ix, node, name, losses, order_kept)
    return f"`{name}` is also read at line {others[0].lineno}" if others else ""


def _model_of(ix: SourceIndex, act: ast.Call) -> tuple[set[str], ast.ClassDef | None]:
    """The names the model an activation ends is called by (a ``Sequential``'s targets, a class's
    instances, the parameters they are handed to), and the class when it is one."""
    model_names: set[str] = set()
    cls: ast.ClassDef | None = None
    for p in ix.up(act):
        if isinstance(p, ast.Call) and last_name(p.func) == "Sequential" and not model_names:
            model_names.update(_assigned(ix, p))
        if isinstance(p, ast.ClassDef):
            cls = p
            break
    ctors: list[ast.expr] = []
    if cls is not None:
        model_names = set()
        ctors = [c for cs in ix.calls.values() for c in cs if last_name(c.func) == cls.name]
        for c in ctors:
            model_names.update(_assigned(ix, c))
    return model_names | _parameters_given(ix, model_names, ctors), cls


def _model_readers(ix: SourceIndex, act: ast.Call, losses: list[ast.Call], order_kept: bool) -> str:
    """For an activation that ends a model: "" when every call of the model feeds the losses fixed."""
    model_names, cls = _model_of(ix, act)
    if not model_names:
        return "the model it ends is not assigned to a name this file calls"
    saved = _saves_a_model(ix) or _other_uses(ix, model_names)
    if saved:
        return saved
    calls = _calls_of(ix, model_names | {f"{m}.forward" for m in model_names})
    if cls is not None:
        calls += [c for c in ast.walk(cls) if isinstance(c, ast.Call) and ix.text(c.func) in ("self", "self.forward")]
    if not calls:
        return "the model it ends is not called in this file"
    for c in calls:  # each call of the model feeds one of the losses this fix fixes, and nothing else
        why = _value_readers(ix, c, losses, order_kept)
        if why:
            return f"{why} (the output of the model's call at line {c.lineno})"
    return ""


_HARMLESS = {"parameters", "named_parameters", "train", "eval", "to", "cuda", "cpu", "zero_grad", "apply", "modules",
             "children", "named_modules", "float", "double", "half", "requires_grad_", "forward"}


def _other_uses(ix: SourceIndex, names: set[str]) -> str:
    """A use of the model other than calling it, moving it, or handing it to a function of this file
    (an alias, ``model[0]``, ``evaluate(model)`` imported, ``Trainer(model)``): code this file does not follow."""
    local = {f.name for f in ast.walk(ix.tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(ix.tree):
        if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node.ctx, ast.Load) \
                or ix.text(node) not in names:
            continue
        holder = ix.parent.get(id(node))
        if isinstance(holder, ast.Call) and holder.func is node:
            continue
        if isinstance(holder, ast.Attribute) and holder.attr in _HARMLESS:
            continue
        if isinstance(holder, ast.Call) and ix.text(holder.func) in local:
            continue
        if isinstance(holder, (ast.Assign, ast.AnnAssign)) and isinstance(holder.value, ast.Call) \
                and holder.value is not node:
            continue
        text = " ".join(ix.text(holder if holder is not None else node).split())
        text = text if len(text) <= 48 else text[:45] + "..."
        return f"`{text}` at line {node.lineno} uses the model in code this file does not follow"
    return ""


_SAVERS = {"save", "export", "script", "trace", "save_pretrained", "log_model", "save_model", "save_checkpoint"}


def _saves_a_model(ix: SourceIndex) -> str:
    """A file that saves or exports a model (``torch.save``, ``torch.onnx.export``, ``torch.jit.script``,
    ``save_pretrained``) hands it to code this file does not show, which would get logits."""
    for cs in ix.calls.values():
        for c in cs:
            if isinstance(c.func, ast.Attribute) and c.func.attr in _SAVERS and c.args:
                return f"`{ix.text(c.func)}(...)` at line {c.lineno} saves a model that other code may read"
    return ""


def _parameters_given(ix: SourceIndex, names: set[str], values: list[ast.expr]) -> set[str]:
    """The parameters of the file's functions that are handed the model (``train(model, ...)``, ``train(Net())``)."""
    funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
        f.name: f for f in ast.walk(ix.tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out: set[str] = set()
    for cs in ix.calls.values():
        for c in cs:
            f = funcs.get(ix.text(c.func))
            if f is None:
                continue
            params = [a.arg for a in f.args.posonlyargs + f.args.args]
            for i, a in enumerate(c.args):
                if i < len(params) and (ix.text(a) in names or any(a is v for v in values)):
                    out.add(params[i])
            out.update(k.arg for k in c.keywords if k.arg and (ix.text(k.value) in names
                                                               or any(k.value is v for v in values)))
    return out


def _shared_module(ix: SourceIndex, act: ast.Call) -> str:
    """``self.act = nn.Sigmoid()`` applied more than once (a gate and the output): replacing it by
    ``nn.Identity()`` would change every use."""
    if last_name(act.func) not in MODULE_ACTS:
        return ""
    holder = ix.parent.get(id(act))
    if isinstance(holder, ast.Call) and last_name(holder.func) == "Sequential":
        return ""
    names = set(_assigned(ix, act))
    uses = _calls_of(ix, names) if names else []
    return f"`{ix.text(uses[1].func)}` is also applied at line {uses[1].lineno}" if len(uses) > 1 else ""


def _declared_global(ix: SourceIndex, node: ast.AST, name: str) -> bool:
    scope = ix.scope(node)
    return any(isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names for n in ast.walk(scope))


def _readers(ix: SourceIndex, act: ast.Call, losses: list[ast.Call], order_kept: bool) -> str:
    """"" when only the given loss calls read the activation's output, else who else does."""
    if any(isinstance(p, ast.NamedExpr) for p in ix.up(act)):
        return f"its value is bound by `:=` at line {act.lineno}"
    if any(_inside(ix, act, c) for c in losses):
        return ""
    shared = _shared_module(ix, act)
    if shared:
        return shared
    name = _held_in(ix, act)
    if name is not None and _declared_global(ix, act, name):
        return f"`{name}` is a global, read outside this function"
    if name is not None:
        others = _later_reads(ix, act, name, losses, order_kept)
        # ``x = F.softmax(x); return x`` in ``forward``: the model's output, read where the model is called
        if not others or not all(isinstance(ix.parent.get(id(n)), ast.Return) for n in others) \
                or not isinstance(ix.scope(act), (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or not any(isinstance(p, ast.ClassDef) for p in ix.up(act)):
            return f"`{name}` is also read at line {others[0].lineno}" if others else ""
    return _model_readers(ix, act, losses, order_kept)
