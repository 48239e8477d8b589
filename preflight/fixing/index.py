"""The syntax tree of a module as the fixes read it: parents, calls by position, what names hold."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from preflight.fixing.edits import Edit, line_starts, replace_node, source_of

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
        # the assignments by the value they assign, seen through ``.to(device)`` and wrappers (``_assigned``)
        self.assigns: dict[int, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.assigns.setdefault(id(_unwrapped(node.value)), []).extend(
                    t for t in targets if isinstance(t, (ast.Name, ast.Attribute)))
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
    return [ix.text(t) for t in ix.assigns.get(id(value), ())]


def _calls_of(ix: SourceIndex, names: set[str]) -> list[ast.Call]:
    return [c for cs in ix.calls.values() for c in cs if ix.text(c.func) in names]


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
