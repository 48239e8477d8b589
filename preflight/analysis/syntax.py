"""Questions about syntax alone, answered without values: does a body always return, is it a
generator, does a loop body train, what name does a loop iterate."""

from __future__ import annotations

import ast

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def source_of(node: ast.AST) -> str:
    """The expression as written, cut to 60 characters."""
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of odd nodes: any failure shows <expr>
        return "<expr>"
    return text if len(text) <= 60 else text[:57] + "..."


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


def is_generator(node: ast.AST) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))


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


def kw_true(e: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in e.keywords)


def str_constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None
