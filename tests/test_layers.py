"""Imports run downward only (STYLE.md, "The shape of the system"): no cycle among preflight's
modules, and no layer imports one above it. Every import counts, module-level or inside a function
(a function-level import is still a dependency, only a later one), ``TYPE_CHECKING`` blocks aside."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "preflight"

# layer -> the packages/modules it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "preflight.stats": ("preflight.inputs", "preflight.checks", "preflight.engine", "preflight.probes",
                        "preflight.report"),
    "preflight.inputs": ("preflight.checks", "preflight.engine", "preflight.probes", "preflight.report"),
    "preflight.checks": ("preflight.engine", "preflight.probes", "preflight.report", "preflight.cli"),
    "preflight.findings": ("preflight.report", "preflight.probes", "preflight.checks"),
    "preflight.config": ("preflight.probes", "preflight.engine", "preflight.report"),
    "preflight.analysis": ("preflight.",),  # stands alone (but may import itself)
    "preflight.probes": ("preflight.engine", "preflight.report", "preflight.cli"),
    "preflight.report": ("preflight.engine", "preflight.probes", "preflight.checks", "preflight.inputs",
                         "preflight.cli"),
}

# Known violations in modules other branches of the redesign are rewriting, as
# (importer, imported): each is to be removed by that branch, and then from here.
PENDING: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str) -> set[str]:
    """The preflight modules ``name`` imports. ``from a import b`` counts ``a.b`` when that is a module,
    and ``a`` itself only for a name ``a`` defines (every import runs the packages above it; that
    alone is no dependency)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
            out.update(subs)
            if len(subs) < len(node.names):  # a name defined in the package itself, not a submodule
                out.add(base)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def _in(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".") or (layer.endswith(".") and module.startswith(layer))


def violations() -> set[tuple[str, str]]:
    found = set()
    for name, deps in GRAPH.items():
        for layer, banned in FORBIDDEN.items():
            if not _in(name, layer):
                continue
            for dep in deps:
                if any(_in(dep, b) for b in banned) and not _in(dep, layer):
                    found.add((name, dep))
    return found


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read() -> None:
    assert "preflight.findings" in GRAPH["preflight.engine"]
    assert "preflight.stats.table" in GRAPH["preflight.inputs.subject"]


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_layers_import_downward_only() -> None:
    assert sorted(violations() - PENDING) == []


def test_pending_violations_still_exist() -> None:
    """An entry of PENDING that is fixed must leave the list, so the list stays honest."""
    assert violations() >= PENDING
