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
from typing import Any

from preflight.fixing.edits import CodeFix, Edit, node_span, replace_node
from preflight.fixing.index import (
    ACT_NAMES,
    MODULE_ACTS,
    SourceIndex,
    _assigned,
    _calls_of,
    _held_in,
    _loads,
    _renamed,
    index_of,
    last_name,
)
from preflight.fixing.readers import _readers

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
        own = _own_line(ix, act)
        if own is not None:  # ``    nn.Sigmoid(),  # probabilities`` on a line of its own: the line goes
            return own
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


def _own_line(ix: SourceIndex, node: ast.AST) -> Edit | None:
    """The edit deleting the whole line(s) of ``node`` when nothing else is written on them (an
    optional comma and a comment aside), so that the comments of its neighbours stay where they are."""
    line, col, end_line, end_col = node_span(ix.lines, node)
    rest = ix.lines[end_line - 1][end_col:].strip()
    if ix.lines[line - 1][:col].strip() or not (rest in ("", ",") or rest.lstrip(",").lstrip().startswith("#")):
        return None
    if end_line >= len(ix.lines):
        return None
    return Edit(line, 0, end_line + 1, 0, "")


def _to_log_softmax(ix: SourceIndex, act: ast.Call) -> Edit | None:
    name = last_name(act.func)
    if name in ("Softmax", "Softmax2d"):
        return _renamed(ix, act.func, "LogSoftmax")
    return _renamed(ix, act.func, "log_softmax")


# --- the loss ------------------------------------------------------------------------------------

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


# --- the fixes -----------------------------------------------------------------------------------

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
    if last_name(act.func) == "sigmoid_":  # in place: the input itself holds the probabilities now
        return None
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


def _loader_reads(ix: SourceIndex, fact: Any) -> str:
    """A training loader that is also iterated elsewhere (an accuracy compared with the labels in stored
    order) would be read shuffled there too."""
    if fact.iterated:
        return "the loader is also iterated outside training, where shuffling changes what is read"
    reads = [n for t in fact.targets for n in _loads(ix, ix.tree, t)]
    if len(reads) > 1:
        return f"`{reads[1].id}` is also read at line {reads[1].lineno}, where shuffling may change what is read"
    return ""


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
    why = f"the loader is built in `{fact.context}()`, which other callers share" if shared else _loader_reads(ix, fact)
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
