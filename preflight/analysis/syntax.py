"""Questions about syntax alone, answered without values: does a body always return, is it a
generator, does a loop body train, what name does a loop iterate."""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from preflight.analysis.parsing import contains

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
N = TypeVar("N", bound=ast.AST)


def kept_on_node(func: Callable[[N], bool]) -> Callable[[N], bool]:
    """``func(node)``, a question about a node's syntax alone, answered once and kept on the node
    (a parsed tree never changes; the interpreter asks again at every call of a function)."""
    key = f"_preflight_{func.__name__}"

    @wraps(func)
    def answer(node: N) -> bool:
        memo = node.__dict__
        if key not in memo:
            memo[key] = func(node)
        return bool(memo[key])
    return answer


def source_of(node: ast.AST) -> str:
    """The expression as written, cut to 60 characters."""
    text = dotted_name(node)
    if text is None:
        try:
            text = ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of odd nodes: any failure shows <expr>
            return "<expr>"
    return text if len(text) <= 60 else text[:57] + "..."


def dotted_name(node: ast.AST) -> str | None:
    """``self.opt`` for a name or a chain of attributes on a name (what ``ast.unparse`` writes,
    without its visitor: most receivers the checks name are such chains); None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


@kept_on_node
def assigns_self_attr(node: FunctionNode) -> bool:
    """True when a method assigns an attribute of its first parameter (``self.x = ...``)."""
    params = node.args.posonlyargs + node.args.args
    if not params:
        return False
    me = params[0].arg
    for n in ast.walk(node):
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, ast.AnnAssign):
            targets = [n.target]
        else:
            continue
        if any(_is_attr_of(sub, me) for t in targets for sub in ast.walk(t)):
            return True
    return False


def _is_attr_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name


@kept_on_node
def is_generator(node: ast.AST) -> bool:
    return contains(node, (ast.Yield, ast.YieldFrom))


def falls_off_end(node: FunctionNode) -> bool:
    """True when the function can end without a return (so it may return None)."""
    return not always_returns(node.body)


def always_returns(body: list[ast.stmt]) -> bool:
    return any(_stmt_always_returns(s) for s in body)


def _stmt_always_returns(s: ast.stmt) -> bool:
    if isinstance(s, (ast.Return, ast.Raise)):
        return True
    if isinstance(s, ast.If):
        return always_returns(s.body) and always_returns(s.orelse)
    if isinstance(s, (ast.With, ast.AsyncWith)):
        return always_returns(s.body)
    if isinstance(s, ast.Try):
        return always_returns(s.body) and all(always_returns(h.body) for h in s.handlers)
    return False


def calls_backward(body: list[ast.stmt]) -> bool:
    """True when a loop body trains: it calls ``.backward()`` or an optimizer's ``.step()``."""
    return any(_is_training_call(n) for s in body for n in ast.walk(s))


def _is_training_call(n: ast.AST) -> bool:
    if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        return False
    if n.func.attr == "backward":
        return True
    return (n.func.attr == "step" and isinstance(n.func.value, (ast.Name, ast.Attribute))
            and "optim" in source_of(n.func.value).lower())


def iterated_name(node: ast.expr) -> str:
    """The name a loop iterates a loader through: ``tqdm(enumerate(train_loader))`` -> "train_loader"."""
    while isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred):
        node = node.args[0]
    return source_of(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else ""


_METRIC_METHODS = frozenset({"item", "detach", "tolist", "numpy"})
_METRIC_CALLS = frozenset({"float", "log", "log_dict", "add_scalar", "grad"})


def metric_loss_sites(tree: ast.AST) -> set[tuple[int, int]]:
    """(line, col) of calls whose value is not a training loss: read as a number (``.item()``,
    ``float(...)``), logged (``self.log(...)``, ``writer.add_scalar``), or differentiated for an
    input (``torch.autograd.grad(loss, x)``, an adversarial attack), directly or through a name
    that nothing in the same function calls ``backward`` on or returns; and
    ``nll_loss(..., reduction="none")`` (a gather of probabilities, as a focal weight, not a loss)."""
    sites: set[tuple[int, int]] = set()
    for scope in ast.walk(tree):
        if isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            sites |= _metric_sites_in([n for b in ast.iter_child_nodes(scope) for n in ast.walk(b)])
        elif isinstance(scope, (ast.For, ast.AsyncFor, ast.While)) and not calls_backward(scope.body):
            # a loop that never trains is its own scope: a validation loop that reuses the training
            # loop's ``loss_val`` name in the same function only logs its value
            sites |= _metric_sites_in([n for b in scope.body for n in ast.walk(b)], loop=True)
    return sites


def _metric_sites_in(nodes: list[ast.AST], loop: bool = False) -> set[tuple[int, int]]:
    flows = _name_flows(nodes)
    trained = _closure(_trained_names(nodes) | (_fed_names(nodes) if loop else set()), flows)
    sites: set[tuple[int, int]] = set()
    metric_names = set()
    for n in nodes:
        for inner in _metric_uses(n):
            if isinstance(inner, ast.Call):
                sites.add((inner.lineno, inner.col_offset))
            elif isinstance(inner, ast.Name) and inner.id not in trained:
                metric_names.add(inner.id)
    metric_names = _closure(metric_names, flows, exclude=trained)
    for n in nodes:
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and len(n.targets) == 1 \
                and isinstance(n.targets[0], ast.Name) and n.targets[0].id in metric_names:
            sites.add((n.value.lineno, n.value.col_offset))
        if isinstance(n, ast.Call) and source_of(n.func).endswith("nll_loss") and any(
                k.arg == "reduction" and str_constant(k.value) == "none" for k in n.keywords):
            sites.add((n.lineno, n.col_offset))
    return sites


def _fed_names(nodes: list[ast.AST]) -> set[str]:
    """Names that feed another value with their graph (``total = total + l``): in a loop that does not
    train, what they feed may be trained after it."""
    return {r for n in nodes if isinstance(n, (ast.Assign, ast.AugAssign)) and n.value is not None
            for r in _graph_reads(n.value)}


def _graph_reads(e: ast.AST) -> set[str]:
    """The names ``e`` reads with their autograd graph: not those read as numbers (``l.item()``,
    ``l.detach()``, ``float(l)``)."""
    if isinstance(e, ast.Call) and ((isinstance(e.func, ast.Attribute) and e.func.attr in _METRIC_METHODS)
                                    or (isinstance(e.func, ast.Name) and e.func.id == "float")):
        return set()
    if isinstance(e, ast.Name):
        return {e.id}
    return {r for c in ast.iter_child_nodes(e) for r in _graph_reads(c)}


def _name_flows(nodes: list[ast.AST]) -> list[tuple[set[str], set[str]]]:
    """(assigned names, names read) of each plain assignment: ``d_loss = (real + fake) / 2``."""
    flows = []
    for n in nodes:
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and n.value is not None:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            assigned = {t.id for t in targets if isinstance(t, ast.Name)}
            if assigned:
                flows.append((assigned, {x.id for x in ast.walk(n.value) if isinstance(x, ast.Name)}))
    return flows


def _closure(names: set[str], flows: list[tuple[set[str], set[str]]], exclude: frozenset[str] | set[str] = frozenset()
             ) -> set[str]:
    """``names`` and every name assigned into one of them (what a trained ``d_loss = (real + fake) / 2``
    trains, what a logged total logs), leaving out ``exclude``."""
    out = set(names) - set(exclude)
    grew = True
    while grew:
        grew = False
        for assigned, read in flows:
            if assigned & out and not read <= out | set(exclude):
                out |= read - set(exclude)
                grew = True
    return out


def _trained_names(nodes: list[ast.AST]) -> set[str]:
    """Names something calls ``backward`` on (``loss.backward()``, ``scaler.scale(loss).backward()``,
    ``accelerator.backward(loss)``) or returns (a caller trains on them)."""
    out: set[str] = set()
    for n in nodes:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward":
            out.update(x.id for x in ast.walk(n.func.value) if isinstance(x, ast.Name))
            out.update(x.id for a in n.args for x in ast.walk(a) if isinstance(x, ast.Name))
        elif isinstance(n, ast.Return) and n.value is not None:
            out.update(x.id for x in ast.walk(n.value) if isinstance(x, ast.Name))
    return out


def _metric_uses(n: ast.AST) -> list[ast.expr]:
    """The expressions ``n`` reads as a metric: the receiver of ``.item()`` or ``.data``, the argument of
    ``float()``, ``self.log(name, value)``, ``torch.autograd.grad(value, x)``."""
    if isinstance(n, ast.Attribute) and n.attr == "data" and isinstance(n.ctx, ast.Load):
        return [n.value]  # ``loss.data[0]``: the pre-0.4 way of reading a loss as a number
    if not isinstance(n, ast.Call):
        return []
    if isinstance(n.func, ast.Attribute) and n.func.attr in _METRIC_METHODS and not n.args:
        return [n.func.value]
    name = n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id if isinstance(n.func, ast.Name) else ""
    if name not in _METRIC_CALLS or not n.args:
        return []
    if name == "grad" and "autograd" not in source_of(n.func):
        return []
    return [n.args[1] if name in ("log", "add_scalar") and len(n.args) > 1 else n.args[0]]


def trains_anywhere(tree: ast.AST) -> bool:
    """The module calls ``backward()``, an optimizer's ``step()``, a trainer's ``fit(...)`` or a
    function named for training with arguments (``train(model, opt, train_loader)``, imported or not)
    somewhere."""
    return any(_is_training_call(n) or (isinstance(n, ast.Call) and bool(n.args) and (
        (isinstance(n.func, ast.Attribute) and n.func.attr == "fit")
        or (isinstance(n.func, ast.Name) and _named_for_training(n.func.id))))
        for n in ast.walk(tree))


_TRAINING_NOUNS = frozenset({"model", "net", "network", "classifier", "epoch", "epochs", "one", "loop", "gan", "fn"})


def _named_for_training(name: str) -> bool:
    """``train``, ``train_model``, ``train_one_epoch``, ``fit``: not ``train_test_split`` (a split), nor a
    class (``TrainDataset``)."""
    words = name.split("_")
    return name in ("train", "fit") or (words[0] == "train" and words[1] in _TRAINING_NOUNS)


def is_main_guard(test: ast.expr) -> bool:
    """``if __name__ == "__main__":``"""
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and str_constant(test.comparators[0]) == "__main__")


def kw_true(e: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in e.keywords)


def str_constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None
