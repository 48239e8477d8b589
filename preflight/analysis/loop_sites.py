"""Where the training-loop rules fire (PF501-PF506): pure measures over a module's ``LoopModule``.

Each function yields the offending calls or statements of one rule; the rule
(``preflight.checks.loops``) judges and words them. See ``preflight.analysis.loops`` for the facts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from preflight.analysis import loops as lp
from preflight.analysis.names import SET_GRAD
from preflight.analysis.syntax import source_of

MODEL_CALL = re.compile(r"(model|net|encoder|decoder|classifier|backbone|^[a-z]?[DGE]$|^forward$)", re.IGNORECASE)
NOT_TRAINED = re.compile(r"teacher|ema|target|frozen|ref|pretrained", re.IGNORECASE)


def _trains(m: lp.LoopModule, calls: list[lp.CallFact]) -> bool:
    return any(c.attr in lp.BACKWARD for c in calls) or any(h.backward for h in m.helpers_in(calls))


# An unresolved helper (imported from another file) named for clearing gradients is taken at its word.
ZEROING_NAME = re.compile(r"(zero|reset|clear).*grad|grad.*(zero|reset|clear)", re.IGNORECASE)


def _may_zero(m: lp.LoopModule, c: lp.CallFact) -> bool:
    return m.summary_of(c) is None and bool(ZEROING_NAME.search(c.name))


def unzeroed_steps(m: lp.LoopModule) -> Iterator[tuple[lp.CallFact, bool]]:
    """PF501: (the step call, whether zero_grad is called elsewhere in the function) of each innermost
    loop that calls backward() and an optimizer's step() but never zeroes the gradients in it."""
    for f in m.functions:
        both = {lo.index for lo in f.loops
                if _trains(m, f.in_loop(lo.index)) and any(map(lp.is_step, f.in_loop(lo.index)))}
        for index in sorted(both):
            if any(lo.parent == index for lo in f.loops if lo.index in both):
                continue  # an inner loop trains: judge that one
            calls = f.in_loop(index)
            zeroed = (any(map(lp.is_zero_grad, calls)) or any(h.zero_grad for h in m.helpers_in(calls))
                      or any(_may_zero(m, c) for c in calls)
                      or any(a.augmented is None and any(t.endswith(".grad") for t in a.targets)
                             for a in f.assigns_in(index)))
            if not zeroed:
                step = next(c for c in calls if lp.is_step(c))
                yield step, any(map(lp.is_zero_grad, f.calls))


def _model_calls(calls: list[lp.CallFact]) -> list[lp.CallFact]:
    return [c for c in calls
            if (c.attr is None or c.receiver == "self" or c.attr == "forward") and MODEL_CALL.search(c.name)]


def _sets_eval(m: lp.LoopModule, f: lp.FunctionFacts) -> bool:
    return _evals(m, f.calls) or any(_evals(m, g.calls) for g, _ in m.callers_of(f.name))


def _evals(m: lp.LoopModule, calls: list[lp.CallFact]) -> bool:
    return any(lp.mode_set(c) in ("eval", "either") for c in calls) or any(h.eval_mode for h in m.helpers_in(calls))


def _grad_off(m: lp.LoopModule, f: lp.FunctionFacts, loop: lp.LoopFact, model_calls: list[lp.CallFact]) -> bool:
    if loop.no_grad or f.decorated_no_grad or all(c.no_grad for c in model_calls):
        return True
    if any(c.qual in SET_GRAD and c.node.args and isinstance(c.node.args[0], ast.Constant)
           and c.node.args[0].value is False for c in f.calls):
        return True
    callers = m.callers_of(f.name)
    return bool(callers) and all(c.no_grad or g.decorated_no_grad for g, c in callers)


def unguarded_eval_loops(m: lp.LoopModule) -> Iterator[tuple[lp.FunctionFacts, lp.LoopFact, bool, bool]]:
    """PF502: (function, loop, eval() missing, no_grad missing) of each outermost loop that evaluates
    (it iterates a validation/test loader or sits in a function named so, calls a model and trains
    nothing) without eval mode on a model with dropout/batch norm, or without no_grad."""
    pytest_file = any(q.split(".")[0] in ("pytest", "unittest") for q in m.imports.values())
    for f in m.functions:
        named = lp.eval_named(f.name) and not (pytest_file and f.name.startswith("test_"))
        seen: set[int] = set()
        for loop in f.loops:
            if loop.parent in seen:
                seen.add(loop.index)
                continue
            calls = f.in_loop(loop.index)
            if not (named or lp.eval_named(loop.iterates)) or _trains(m, calls) or any(map(lp.is_step, calls)):
                continue
            model_calls = _model_calls(calls)
            if not model_calls:
                continue
            seen.add(loop.index)
            no_eval = m.has_dropout_or_norm and not _sets_eval(m, f)
            no_grad = not _grad_off(m, f, loop, model_calls)
            if no_eval or no_grad:
                yield f, loop, no_eval, no_grad


def _loss_names(m: lp.LoopModule, f: lp.FunctionFacts, loop: int, before: int) -> set[str]:
    """Names holding a loss tensor at line ``before`` of a loop: assigned from a loss call (or a sum
    of loss tensors) and not detached by their latest assignment."""
    out: set[str] = set()
    # a name this loop's own body calls backward() on after assigning it holds a graph, whatever builds it
    # (``loss, logits = model(x)``); a backward in a nested loop says nothing of an assignment out here
    backwards = [(c.receiver, c.node.lineno) for c in f.in_loop(loop)
                 if c.attr == "backward" and c.receiver and c.loops[-1] == loop]
    for a in sorted(f.assigns_in(loop), key=lambda a: a.node.lineno):
        if a.node.lineno >= before or a.augmented is not None:
            continue
        tensor = not lp.detached(a.value) and (lp.is_loss_call(a.value, m.imports) or any(
            isinstance(n, ast.Name) and n.id in out for n in ast.walk(a.value)))
        for t in a.targets or _unpacked(a.node):
            backwarded = any(r == t and line > a.node.lineno for r, line in backwards)
            (out.add if tensor or (backwarded and not lp.detached(a.value)) else out.discard)(t)
    return out


def _unpacked(node: ast.stmt) -> tuple[str, ...]:
    """The names a tuple assignment binds: ``loss``, ``logits`` of ``loss, logits = model(x, labels=y)``."""
    if not isinstance(node, ast.Assign):
        return ()
    return tuple(e.id for t in node.targets if isinstance(t, (ast.Tuple, ast.List)) for e in t.elts
                 if isinstance(e, ast.Name))


def _backwarded(f: lp.FunctionFacts) -> set[str]:
    """Names a backward() reaches, through the assignments that build the backwarded value."""
    names = {source_of(n) for c in f.calls if c.attr in lp.BACKWARD
             for n in ast.walk(c.node) if isinstance(n, (ast.Name, ast.Attribute))}
    for _ in range(3):
        names |= {source_of(n) for a in f.assigns if set(a.targets) & names
                  for n in ast.walk(a.value) if isinstance(n, (ast.Name, ast.Attribute))}
    return names


def accumulated_losses(m: lp.LoopModule) -> Iterator[tuple[ast.stmt | ast.Call, str, str]]:
    """PF503: (statement, accumulator, loss) where a loss tensor is added to an accumulator (``total +=
    loss``, ``losses.append(loss)``) in a loop outside no_grad, and the accumulator is never backwarded."""
    for f in m.functions:
        if f.decorated_no_grad:
            continue
        backwarded = _backwarded(f)
        for node, acc, value, loops in _accumulations(f):
            if acc in backwarded:
                continue
            tensors = _loss_names(m, f, loops[-1], node.lineno)
            if lp.is_loss_call(value, m.imports) and not lp.detached(value):
                yield node, acc, source_of(value)
                continue
            hits = [n.id for n in _undetached_names(value) if n.id in tensors]
            if hits:
                yield node, acc, hits[0]


def _accumulations(f: lp.FunctionFacts) -> list[tuple[ast.stmt | ast.Call, str, ast.expr, tuple[int, ...]]]:
    """(statement, accumulator, value added, loops) of ``acc += value`` and ``acc.append(value)`` in
    loops, outside no_grad."""
    sites: list[tuple[ast.stmt | ast.Call, str, ast.expr, tuple[int, ...]]] = [
        (a.node, a.targets[0], a.value, a.loops) for a in f.assigns
        if a.loops and not a.no_grad and isinstance(a.augmented, ast.Add) and a.targets]
    sites += [(c.node, c.receiver, c.node.args[0], c.loops) for c in f.calls
              if c.loops and not c.no_grad and c.attr == "append" and c.receiver and len(c.node.args) == 1]
    return sites


def _undetached_names(e: ast.expr) -> list[ast.Name]:
    if lp.detached(e):
        return []
    if isinstance(e, ast.Name):
        return [e]
    if isinstance(e, ast.BinOp):
        return _undetached_names(e.left) + _undetached_names(e.right)
    if isinstance(e, ast.UnaryOp):
        return _undetached_names(e.operand)
    return []


def unrestored_train_mode(m: lp.LoopModule) -> Iterator[tuple[lp.CallFact, str]]:
    """PF504: (the call that sets eval mode, the model) in a loop that trains and evaluates but never
    sets train() again; the model is one whose parameters an optimizer updates (when the file says)."""
    seen: set[int] = set()
    for f in m.functions:
        for loop in f.loops:
            calls = f.in_loop(loop.index)
            if not _trains(m, calls):
                continue
            if any(lp.mode_set(c) in ("train", "either") for c in calls) or any(
                    h.train_mode for h in m.helpers_in(calls)):
                continue
            for c in calls:
                h = m.summary_of(c)
                if lp.mode_set(c) == "eval":
                    model = c.receiver or ""
                elif h is not None and h.eval_mode and not h.restores and c.node.args:
                    model = source_of(c.node.args[0])
                else:
                    continue
                trained = model in m.optimized if m.optimized else not NOT_TRAINED.search(model)
                if trained and id(c.node) not in seen:
                    seen.add(id(c.node))
                    yield c, model


def unset_sampler_epochs(m: lp.LoopModule) -> Iterator[lp.CallFact]:
    """PF505: DistributedSampler constructions (shuffling, not for evaluation) in a file with an epoch
    loop and no ``set_epoch`` call anywhere."""
    if not _epochs_unset(m):
        return
    for f in m.functions:
        for c in f.calls:
            if c.qual != lp.DISTRIBUTED_SAMPLER:
                continue
            if any(k.arg == "shuffle" and isinstance(k.value, ast.Constant) and k.value.value is False
                   for k in c.node.keywords):
                continue
            target = next((t for a in f.assigns for t in a.targets if _contains(a.value, c.node)), "")
            if not lp.eval_named(target) and not any(lp.eval_named(source_of(a)) for a in c.node.args):
                yield c


def _epochs_unset(m: lp.LoopModule) -> bool:
    """The file has an epoch loop (a loop in a loop, or one over epochs) and calls set_epoch nowhere;
    Lightning and accelerate, which set it themselves, are not used."""
    if any(c.attr == "set_epoch" for f in m.functions for c in f.calls):
        return False
    if any(q.split(".")[0] in ("lightning", "pytorch_lightning", "accelerate") for q in m.imports.values()):
        return False
    return any(lo.parent is not None or "epoch" in source_of(lo.node).split("\n")[0].lower()
               for f in m.functions for lo in f.loops)


def _contains(e: ast.AST, node: ast.AST) -> bool:
    return any(n is node for n in ast.walk(e))


def _divided(e: ast.AST) -> bool:
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(e))


def undivided_accumulation(m: lp.LoopModule) -> Iterator[tuple[lp.CallFact, str]]:
    """PF506: (backward call, the loss) in a loop that calls backward() every iteration and step()
    only under ``if ... % k``, where the loss backwarded is never divided (``loss / k``)."""
    seen: set[int] = set()  # a backward call inside nested loops (epochs around steps) is one finding
    for f in m.functions:
        if any(c.attr == "accumulate" for c in f.calls):
            continue  # accelerate's accumulate() scales the loss itself
        for loop in f.loops:
            calls = f.in_loop(loop.index)
            steps = [c for c in calls if lp.is_step(c)]
            if not steps or not all(c.modulo_if for c in steps):
                continue
            for c in calls:
                if c.attr not in lp.BACKWARD or c.modulo_if:
                    continue
                loss = _backwarded_value(c)
                if id(c.node) not in seen and not _divided(loss) and not _divided_by_assignment(f, source_of(loss)):
                    seen.add(id(c.node))
                    yield c, source_of(loss)


def _backwarded_value(c: lp.CallFact) -> ast.expr:
    """The loss a backward call differentiates: ``loss`` in ``loss.backward()``,
    ``scaler.scale(loss).backward()``, ``accelerator.backward(loss)``."""
    func = c.node.func
    arg = c.node.args[0] if c.node.args and (c.attr != "backward" or c.receiver == "accelerator") else func
    if isinstance(arg, ast.Attribute) and arg.attr == "backward":
        arg = arg.value
    if isinstance(arg, ast.Call) and arg.args and not _divided(arg):  # scaler.scale(loss)
        arg = arg.args[0]
    return arg


def _divided_by_assignment(f: lp.FunctionFacts, name: str, depth: int = 3) -> bool:
    """``name`` is divided where it is assigned (``loss = loss / k``, ``loss /= k``), or is bound from
    a divided name (``with amp.scale_loss(loss, opt) as scaled_loss``)."""
    for a in f.assigns:
        if name not in a.targets:
            continue
        if _divided(a.value) or isinstance(a.augmented, ast.Div):
            return True
        bound = isinstance(a.node, (ast.With, ast.AsyncWith))
        if depth and bound and any(isinstance(n, ast.Name) and n.id != name
                                   and _divided_by_assignment(f, n.id, depth - 1) for n in ast.walk(a.value)):
            return True
    return False
