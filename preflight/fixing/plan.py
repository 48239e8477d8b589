"""The edits of each code rule's fix, read off the syntax tree (never imports or runs the code).

* PF301 (sigmoid, then ``BCELoss``): drop the sigmoid and use ``BCEWithLogitsLoss`` /
  ``F.binary_cross_entropy_with_logits``;
* PF302 / PF305 (softmax or log_softmax, then ``CrossEntropyLoss``) and PF304 (sigmoid, then
  ``BCEWithLogitsLoss``): drop the activation;
* PF303 (softmax, then ``NLLLoss``): ``log_softmax`` for ``softmax`` (``nn.LogSoftmax`` for ``nn.Softmax``);
* PF203 (a training loader that does not shuffle): ``shuffle=True``.

Dropping an activation: ``torch.sigmoid(z)`` / ``F.softmax(z, dim=1)`` become ``z``, ``z.sigmoid()``
becomes ``z``, an ``nn.Sigmoid()`` element of an ``nn.Sequential`` is removed (``nn.Identity()`` where
it is the only element), any other ``nn.Sigmoid()`` becomes ``nn.Identity()``.

A fix is **safe** when nothing but the loss reads the activation's output: the activation is
written inside the loss call; or its result is held in a name the loss reads and nothing else
does; or it ends a model (a ``Sequential``, a class's ``forward``) that the file calls exactly once,
to feed the loss. Anything else (``predicted = out > 0.5``, a ``validate()`` that calls the model,
a criterion shared with another loss call) makes it **unsafe**, with the other reader named. Where
the activation's result is held in a name that is read elsewhere too and its input is a plain name
(``probs = torch.sigmoid(logits)``), the safe fix passes that input to the loss and leaves ``probs``
for its other readers. When the tree does not say (an activation in another file, an ``import``-ed
bare ``Sigmoid``, a ``**kwargs`` loader), the finding has no fix.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from preflight.fixing.edits import CodeFix, Edit, line_starts, node_span, replace_node, source_of

ACT_NAMES = {"sigmoid", "sigmoid_", "expit", "softmax", "log_softmax", "Sigmoid", "Softmax", "Softmax2d",
             "LogSoftmax"}
MODULE_ACTS = {"Sigmoid", "Softmax", "Softmax2d", "LogSoftmax"}
# methods that hand back their receiver (a module moved or cast) and wrappers that hand back their argument
_PASS_METHODS = {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "requires_grad_"}
_WRAPPERS = {"DataParallel", "DistributedDataParallel", "compile"}


class SourceIndex:
    """A module's tree with each node's parent, the Call nodes by start, and the lines."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        self.tree = tree
        starts = line_starts(text)
        self.lines = [text[a:b].rstrip("\r\n") for a, b in zip(starts, [*starts[1:], len(text)])]
        self.parent: dict[int, ast.AST] = {}
        self.calls: dict[tuple[int, int], list[ast.Call]] = {}
        self.modules: set[str] = set()  # names bound to modules (import torch.nn.functional as F)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[id(child)] = node
            if isinstance(node, ast.Call):
                self.calls.setdefault((node.lineno, node.col_offset), []).append(node)
            elif isinstance(node, ast.Import):
                self.modules.update((a.asname or a.name.split(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("torch"):
                self.modules.update(a.asname or a.name for a in node.names if a.name in ("functional", "special", "nn"))

    def up(self, node: ast.AST) -> Iterator[ast.AST]:
        while id(node) in self.parent:
            node = self.parent[id(node)]
            yield node

    def call_at(self, line: int, col: int, names: set[str]) -> ast.Call | None:
        found = [c for c in self.calls.get((line, col), ()) if last_name(c.func) in names]
        return found[-1] if found else None  # the innermost: ``torch.sigmoid(x).squeeze()`` starts there too

    def text(self, node: ast.AST) -> str:
        return source_of(self.lines, node)

    def scope(self, node: ast.AST) -> ast.AST:
        return next((p for p in self.up(node) if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))),
                    self.tree)

    def is_module_ref(self, node: ast.expr) -> bool:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in self.modules


def index_of(subject: Any) -> SourceIndex:
    ix = getattr(subject, "_fix_index", None)
    if ix is None:
        ix = SourceIndex(subject.tree, subject.source)
        object.__setattr__(subject, "_fix_index", ix)
    return ix


def last_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _renamed(ix: SourceIndex, func: ast.expr, name: str) -> Edit | None:
    """``F.softmax`` -> ``F.log_softmax``: the attribute's last name replaced (None for a bare name,
    which would need an import)."""
    if not isinstance(func, ast.Attribute):
        return None
    return replace_node(ix.lines, func, f"{ix.text(func.value)}.{name}")


# --- the activation ------------------------------------------------------------------------------

def _is_function_form(ix: SourceIndex, call: ast.Call) -> bool:
    """``torch.sigmoid(z)`` (a function of its argument), not ``z.sigmoid()`` (a method of ``z``)."""
    return isinstance(call.func, ast.Attribute) and ix.is_module_ref(call.func.value)


def _act_input(ix: SourceIndex, call: ast.Call) -> ast.expr | None:
    if _is_function_form(ix, call):
        if call.args and not isinstance(call.args[0], ast.Starred):
            return call.args[0]
        return next((k.value for k in call.keywords if k.arg == "input"), None)
    if isinstance(call.func, ast.Attribute):
        return call.func.value
    return None


_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)


def _removal(ix: SourceIndex, act: ast.Call) -> Edit | None:
    name = last_name(act.func)
    if name in MODULE_ACTS:
        return _module_removal(ix, act)
    inner = _act_input(ix, act)
    if inner is None:
        return None
    text = ix.text(inner)
    holder = ix.parent.get(id(act))
    if not isinstance(inner, _ATOMS) and isinstance(holder, (ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Subscript,
                                                             ast.Compare, ast.Await)):
        text = f"({text})"
    return replace_node(ix.lines, act, text)


def _module_removal(ix: SourceIndex, act: ast.Call) -> Edit | None:
    holder = ix.parent.get(id(act))
    if isinstance(holder, ast.Call) and last_name(holder.func) == "Sequential" and act in holder.args \
            and len(holder.args) > 1:
        i = holder.args.index(act)
        if i == len(holder.args) - 1:  # drop ", nn.Sigmoid()" after the previous element
            line, col = node_span(ix.lines, holder.args[i - 1])[2:]
            end_line, end_col = node_span(ix.lines, act)[2:]
        else:  # drop "nn.Sigmoid(), " up to the next element
            line, col = node_span(ix.lines, act)[:2]
            end_line, end_col = node_span(ix.lines, holder.args[i + 1])[:2]
        return Edit(line, col, end_line, end_col, "")
    if not isinstance(act.func, ast.Attribute):
        return None
    return replace_node(ix.lines, act, f"{ix.text(act.func.value)}.Identity()")


def _to_log_softmax(ix: SourceIndex, act: ast.Call) -> Edit | None:
    name = last_name(act.func)
    if name in ("Softmax", "Softmax2d"):
        return _renamed(ix, act.func, "LogSoftmax")
    return _renamed(ix, act.func, "log_softmax")


# --- the loss ------------------------------------------------------------------------------------

def _unwrapped(node: ast.expr) -> ast.expr:
    """``nn.BCELoss().to(device)`` -> ``nn.BCELoss()``; ``nn.DataParallel(Net())`` -> ``Net()``."""
    while isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in _PASS_METHODS \
                and isinstance(node.func.value, ast.Call):
            node = node.func.value
        elif last_name(node.func) in _WRAPPERS and node.args:
            node = node.args[0]
        else:
            break
    return node


def _assigned(ix: SourceIndex, value: ast.expr) -> list[str]:
    """The targets (as written) an expression is assigned to, through ``.to(device)`` and wrappers."""
    out: list[str] = []
    for node in ast.walk(ix.tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                and _unwrapped(node.value) is value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out.extend(ix.text(t) for t in targets if isinstance(t, (ast.Name, ast.Attribute)))
    return out


def _calls_of(ix: SourceIndex, names: set[str]) -> list[ast.Call]:
    return [c for cs in ix.calls.values() for c in cs if ix.text(c.func) in names]


def _bce_logits(ix: SourceIndex, loss_call: ast.Call, subject: Any) -> tuple[list[Edit] | None, str]:
    """The edits that make the BCE loss at ``loss_call`` the fused one, and what else the change
    reaches ("" when nothing): another call of the same criterion that is not itself fixed."""
    func = loss_call.func
    if last_name(func) == "binary_cross_entropy":
        edit = _renamed(ix, func, "binary_cross_entropy_with_logits")
        return ([edit] if edit else None), ""
    if isinstance(func, ast.Call) and last_name(func.func) == "BCELoss":  # nn.BCELoss()(p, y)
        edit = _renamed(ix, func.func, "BCEWithLogitsLoss")
        return ([edit] if edit else None), ""
    chosen = _criterion_ctors(ix, ix.text(func))
    edits = [e for e in (_renamed(ix, c.func, "BCEWithLogitsLoss") for c in chosen) if e is not None]
    if not chosen or len(edits) < len(chosen):
        return None, ""
    return edits, _other_calls(ix, chosen, ix.text(func), subject)


def _criterion_ctors(ix: SourceIndex, crit: str) -> list[ast.Call]:
    """Every ``BCELoss()`` assigned to the criterion's name (``nn.BCELoss().cuda()`` on one branch,
    ``nn.BCELoss()`` on the other); else the file's only one."""
    ctors = [c for cs in ix.calls.values() for c in cs if last_name(c.func) == "BCELoss"]
    named = [c for c in ctors if crit in _assigned(ix, c)]
    return named or (ctors if len(ctors) == 1 else [])


def _other_calls(ix: SourceIndex, ctors: list[ast.Call], crit: str, subject: Any) -> str:
    fed = {(p.line, p.col) for p in subject.flow.pairs.values() if p.act.kind == "sigmoid" and p.loss == "bce"}
    users = {t for c in ctors for t in _assigned(ix, c)} or {crit}
    others = [c for c in _calls_of(ix, users) if (c.lineno, c.col_offset) not in fed]
    return f"the same criterion is also called at line {others[0].lineno}, without a sigmoid" if others else ""


# --- who else reads the activation's output ----------------------------------------------------

def _loads(ix: SourceIndex, scope: ast.AST, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _held_in(ix: SourceIndex, node: ast.AST) -> str | None:
    """The name ``node`` is assigned to (``out = model(x)``), through method calls on it."""
    holder = ix.parent.get(id(node))
    while isinstance(holder, ast.Attribute) and isinstance(ix.parent.get(id(holder)), ast.Call):
        node = ix.parent[id(holder)]
        holder = ix.parent.get(id(node))
    if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
        return holder.targets[0].id
    return None


def _inside(ix: SourceIndex, node: ast.AST, outer: ast.AST) -> bool:
    return any(p is outer for p in ix.up(node))


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
    return [n for n in _loads(ix, ix.scope(node), name) if n.lineno > line or
            (n.lineno == line and not _inside(ix, n, node) and n.col_offset >= (node.end_col_offset or 0))  # type: ignore[attr-defined]
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
    saved = _saves_a_model(ix)
    if saved:
        return saved
    calls = _calls_of(ix, model_names | {f"{m}.forward" for m in model_names})
    if cls is not None:
        calls += [c for c in ast.walk(cls) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                  and c.func.id == "self"]
    if not calls:
        return "the model it ends is not called in this file"
    for c in calls:  # each call of the model feeds one of the losses this fix fixes, and nothing else
        why = _value_readers(ix, c, losses, order_kept)
        if why:
            return f"{why} (the output of the model's call at line {c.lineno})"
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


def _readers(ix: SourceIndex, act: ast.Call, losses: list[ast.Call], order_kept: bool) -> str:
    """"" when only the given loss calls read the activation's output, else who else does."""
    if any(_inside(ix, act, c) for c in losses):
        return ""
    name = _held_in(ix, act)
    if name is not None:
        others = _later_reads(ix, act, name, losses, order_kept)
        # ``x = F.softmax(x); return x`` in ``forward``: the model's output, read where the model is called
        if not others or not all(isinstance(ix.parent.get(id(n)), ast.Return) for n in others) \
                or not isinstance(ix.scope(act), (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or not any(isinstance(p, ast.ClassDef) for p in ix.up(act)):
            return f"`{name}` is also read at line {others[0].lineno}" if others else ""
    return _model_readers(ix, act, losses, order_kept)


# --- the fixes -----------------------------------------------------------------------------------

_FIXED_LOSS = {"PF301": "BCEWithLogitsLoss"}
_WHAT = {
    "PF301": "drop the sigmoid and use BCEWithLogitsLoss",
    "PF302": "drop the softmax (CrossEntropyLoss takes logits)",
    "PF303": "log_softmax instead of softmax before NLLLoss",
    "PF304": "drop the sigmoid (BCEWithLogitsLoss applies it)",
    "PF305": "drop the log_softmax (CrossEntropyLoss applies it)",
}


def activation_fix(subject: Any, pair: Any, code: str) -> CodeFix | None:
    """The fix of a PF301-PF305 finding on ``pair`` (a ``LossPair``), or None when there is none."""
    if pair.act.path or code not in _WHAT:
        return None
    ix = index_of(subject)
    act = ix.call_at(pair.act.line, pair.act.col, ACT_NAMES)
    loss_call = next(iter(ix.calls.get((pair.line, pair.col), ())[-1:]), None)
    if act is None or loss_call is None:
        return None
    edit = _to_log_softmax(ix, act) if code == "PF303" else _removal(ix, act)
    if edit is None:
        return None
    # the loss calls this same activation feeds (a GAN's real and fake steps): one fix fixes them all
    losses = [c for p in subject.flow.pairs.values() if p.act == pair.act and p.loss == pair.loss
              for c in ix.calls.get((p.line, p.col), ())[-1:]]
    order_kept = code in ("PF302", "PF305")  # dropping a softmax keeps every argmax
    edits, why, shared = [edit], _readers(ix, act, losses or [loss_call], order_kept), ""
    if code == "PF301":
        loss_edits, shared = _bce_logits(ix, loss_call, subject)
        if loss_edits is None:
            return None
        edits.extend(loss_edits)
    if why and not shared and code != "PF303":
        kept = _keep_probabilities(ix, act, loss_call, edits[1:])
        if kept is not None:
            return kept
    why = why or shared
    return CodeFix(_WHAT[code], safe=not why, edits=tuple(edits), why_unsafe=why)


def _keep_probabilities(ix: SourceIndex, act: ast.Call, loss_call: ast.Call,
                        loss_edits: list[Edit]) -> CodeFix | None:
    """``probs = torch.sigmoid(logits)`` read elsewhere too: pass ``logits`` to the loss instead."""
    name, inner = _held_in(ix, act), _act_input(ix, act)
    if name is None or not isinstance(inner, ast.Name) or not isinstance(ix.parent.get(id(act)), ast.Assign) \
            or not loss_call.args:
        return None
    arg = loss_call.args[0]
    if not (isinstance(arg, ast.Name) and arg.id == name):
        return None
    scope = ix.scope(act)
    stores = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == inner.id
              and isinstance(n.ctx, ast.Store)]
    if len(stores) > 1 or any(n.lineno > act.lineno for n in stores):
        return None
    return CodeFix(f"pass `{inner.id}` to the loss; `{name}` keeps the probabilities for its other readers",
                   safe=True, edits=(replace_node(ix.lines, arg, inner.id), *loss_edits))


def loader_fix(subject: Any, fact: Any) -> CodeFix | None:
    """PF203: ``shuffle=True`` on the training ``DataLoader(...)`` call, or None when the call passes
    ``*args``, ``**kwargs``, a sampler or a shuffle expression (the user decides those)."""
    ix = index_of(subject)
    call = ix.call_at(fact.line, fact.col, {"DataLoader"})
    if call is None or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    kw = {k.arg: k for k in call.keywords}
    if None in kw or "sampler" in kw or "batch_sampler" in kw:
        return None
    shared = fact.trained_outside and fact.built_in != "<module>" and fact.context
    why = f"the loader is built in `{fact.context}()`, which other callers share" if shared else ""
    if "shuffle" in kw:
        value = kw["shuffle"].value
        if not (isinstance(value, ast.Constant) and value.value is False):
            return None
        return CodeFix("shuffle=True", not why, (replace_node(ix.lines, value, "True"),), why)
    if len(call.args) >= 3:
        value = call.args[2]
        if not (isinstance(value, ast.Constant) and value.value is False):
            return None
        return CodeFix("shuffle=True", not why, (replace_node(ix.lines, value, "True"),), why)
    last = max([*call.args, *(k.value for k in call.keywords)], key=lambda n: (n.end_lineno, n.end_col_offset),
               default=None)
    if last is None:
        return None
    line, col = node_span(ix.lines, last)[2:]
    return CodeFix("add shuffle=True", not why, (Edit(line, col, line, col, ", shuffle=True"),), why)
