"""What makes the static checks fast gives the answers of the slow way: the collector paused while
trees are built and restored after (``analysis.parsing``), the imports read from the statements
alone, receivers written without ``ast.unparse``, syntax answers kept on their nodes."""

from __future__ import annotations

import ast
import gc
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.analysis.loops import imports_of
from preflight.analysis.parsing import Visitor, contains, gc_paused, parse, paused_gc
from preflight.analysis.syntax import dotted_name, kept_on_node, source_of
from preflight.checks import ALL_RULES
from preflight.config import Config
from preflight.engine import _check_python_files, _worker_start
from preflight.inputs.pysource import code_subject
from preflight.inputs.subject import CodeSubject


@pytest.fixture
def gc_on():
    was_on = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was_on else gc.disable()


def test_paused_gc_nests_and_restores_even_on_error(gc_on):
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not turn it back on early
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), paused_gc():
        raise ZeroDivisionError
    assert gc.isenabled()


def test_paused_gc_leaves_a_collector_the_caller_turned_off_off(gc_on):
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_gc_paused_runs_the_function_paused_and_returns_its_value(gc_on):
    seen = gc_paused(lambda x: (x, gc.isenabled()))(5)
    assert seen == (5, False) and gc.isenabled()


def test_parse_is_ast_parse_quietly_and_restores_the_collector(gc_on, recwarn):
    tree = parse("x = '\\d'\n", "f.py")  # an invalid escape: a SyntaxWarning from ast.parse, silenced here
    assert type(tree.body[0]).__name__ == "Assign" and not recwarn.list
    with pytest.raises(SyntaxError):
        parse("def f(:\n", "f.py")
    assert gc.isenabled()


def test_a_worker_checks_with_the_collector_off_and_finds_the_same(tmp_path, gc_on):
    script = tmp_path / "train.py"
    script.write_text("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid())\n"
                      "loss = nn.BCELoss()(model(x), y)\n")
    on = _check_python_files([(str(script), True)], Config())
    try:
        _worker_start()
        assert not gc.isenabled()
        off = _check_python_files([(str(script), True)], Config())
    finally:
        gc.enable()
    assert [f.code for f in on[0][1]] == ["PF301"]
    assert off == on


# --- answers computed faster must be the answers of the slow way -------------------------------

def _imports_by_full_walk(tree: ast.AST) -> dict[str, str]:
    """The reference: every node of the tree walked (``ast.walk``), as the loop facts once did."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


IMPORT_SHAPES = textwrap.dedent("""
    import torch.nn as nn
    try:
        import torch.nn.functional as F
    except ImportError:
        import torch.functional as F
    else:
        from torch import optim
    finally:
        import os.path
    def f():
        from torch.nn import BCELoss as nn
        class C:
            def m(self):
                import numpy as np
    match x:
        case 1:
            from torch import nn as F
    with open(p) as fh:
        for _ in range(3):
            while True:
                from .local import thing
                import ignite.engine
                break
        else:
            import lightning as L
    if a:
        import torch as L
    lam = lambda: __import__("x")
""")


def test_imports_of_walks_statements_only_but_answers_as_a_full_walk():
    tree = ast.parse(IMPORT_SHAPES)
    found = imports_of(tree)
    assert list(found.items()) == list(_imports_by_full_walk(tree).items())  # same bindings, same order
    # breadth first: the deepest binding wins (`import lightning as L` sits a level below `import torch as L`)
    assert found["F"] == "torch.nn" and found["L"] == "lightning" and found["nn"] == "torch.nn.BCELoss"
    assert found["np"] == "numpy" and "thing" not in found and found["ignite"] == "ignite"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["import a.b as {n}", "from m import {n}", "import {n}", "x = {n}",
                                 "try:\n    import t as {n}\nexcept E:\n    from u import {n}",
                                 "def f():\n    import q as {n}", "if c:\n    from r import z as {n}"]),
                max_size=8),
       st.lists(st.sampled_from(["a", "b", "c"]), min_size=8, max_size=8))
def test_imports_of_agrees_with_a_full_walk_on_generated_modules(lines, names):
    tree = ast.parse("\n".join(line.format(n=name) for line, name in zip(lines, names)))
    assert list(imports_of(tree).items()) == list(_imports_by_full_walk(tree).items())


@pytest.mark.parametrize("text", ["x", "self.opt", "a.b.c.d", "self.model(x).sum", "x[0].y", "(a + b).c", "f()",
                                  "'s'.join", "self." + "very_long_attribute_name_" * 4])
def test_source_of_writes_what_unparse_writes(text):
    node = ast.parse(text, mode="eval").body
    unparsed = ast.unparse(node)
    assert source_of(node) == (unparsed if len(unparsed) <= 60 else unparsed[:57] + "...")
    assert dotted_name(node) == (text if text.replace(".", "").replace("_", "").isalnum() else None)


def test_kept_on_node_answers_once_per_node():
    calls = []

    @kept_on_node
    def has_return(node: ast.AST) -> bool:
        calls.append(node)
        return any(isinstance(n, ast.Return) for n in ast.walk(node))

    f, g = ast.parse("def f():\n    return 1\ndef g():\n    pass\n").body
    assert [has_return(f), has_return(f), has_return(g), has_return(g)] == [True, True, False, False]
    assert calls == [f, g]


SHAPES = IMPORT_SHAPES + textwrap.dedent("""
    def gen(loader):
        for x in loader:
            yield model(x), {"k": [1, None, lambda: (yield)]}
    async def agen():
        async with lock:
            yield from other()
    global g
    print(f"{a!r:>{width}}", *args, **kw)
    x = [y for y in z if y] or {**d} and (a if b else c)[1:2, ...]
    def plain(self, a, /, b=1, *c, d, **e) -> None:
        nonlocal_thing = None
        return a
""")


class _Recorder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def visit_Call(self, node: ast.Call) -> None:
        self.seen.append(("call", id(node)))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self.seen.append((node.id, id(node)))

    def visit_Constant(self, node: ast.Constant) -> None:
        self.seen.append(("const", id(node)))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.seen.append(("lambda", id(node)))  # its body is not visited


class _FastRecorder(Visitor):
    __init__ = _Recorder.__init__
    visit_Call, visit_Name, visit_Constant, visit_Lambda = (
        _Recorder.visit_Call, _Recorder.visit_Name, _Recorder.visit_Constant, _Recorder.visit_Lambda)


class _Generic(Visitor):
    def __init__(self) -> None:
        self.count = 0

    def generic_visit(self, node: ast.AST) -> None:
        self.count += 1
        super().generic_visit(node)


def test_visitor_visits_what_node_visitor_visits_in_its_order():
    tree = ast.parse(SHAPES)
    slow, fast = _Recorder(), _FastRecorder()
    slow.visit(tree)
    fast.visit(tree)
    assert fast.seen == slow.seen and len(fast.seen) > 40
    generic = _Generic()
    generic.visit(tree)  # no visit_ methods: every node goes through generic_visit once
    assert generic.count == sum(1 for _ in ast.walk(tree))


@pytest.mark.parametrize("kinds", [(ast.Yield, ast.YieldFrom), ast.Lambda, ast.Starred, ast.Global, ast.Slice])
def test_contains_answers_as_a_full_walk(kinds):
    tree = ast.parse(SHAPES)
    for node in ast.walk(tree):
        assert contains(node, kinds) == any(isinstance(n, kinds) for n in ast.walk(node))


def test_no_code_rule_finds_anything_in_a_file_the_text_test_turned_away():
    """A worker does not run the rules on a tree-less subject (``engine._check_python_files``): this
    holds only while every code rule reads the tree (or the flow analysed from it)."""
    source = ("import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n"
              "loss = nn.BCELoss()(torch.sigmoid(x), y)\nfor b in DataLoader(ds, shuffle=False):\n"
              "    loss.backward()\n    opt.step()\n")
    subject = CodeSubject(path="train.py", display="train.py", source=source, tree=None, lines=source.splitlines())
    config = Config()
    code_rules = [r for r in ALL_RULES if isinstance(subject, r.subject)]
    assert {"PF203", "PF301", "PF501"} <= {r.code for r in code_rules}
    assert [f for r in code_rules for f in r.check(subject, config.options_for(r))] == []
    parsed = code_subject(source, display="train.py")
    assert {f.code for r in code_rules for f in r.check(parsed, config.options_for(r))} >= {"PF301", "PF501"}


def test_visitor_skips_only_leaves_it_has_no_method_for():
    class Calls(ast.NodeVisitor):
        def __init__(self) -> None:
            self.seen: list[int] = []

        def visit_Call(self, node: ast.Call) -> None:
            self.seen.append(id(node))
            self.generic_visit(node)

    class FastCalls(Visitor):
        __init__ = Calls.__init__
        visit_Call = Calls.visit_Call

    class Stores(Visitor):  # a method for a context: names are visited again
        def __init__(self) -> None:
            self.n = 0

        def visit_Store(self, node: ast.Store) -> None:
            self.n += 1

    tree = ast.parse(SHAPES)
    slow, fast, stores = Calls(), FastCalls(), Stores()
    slow.visit(tree)
    fast.visit(tree)
    stores.visit(tree)
    assert fast.seen == slow.seen and len(fast.seen) == sum(isinstance(n, ast.Call) for n in ast.walk(tree))
    assert ast.Name in FastCalls._inert and ast.Name not in Stores._inert
    assert stores.n == sum(isinstance(n, ast.Store) for n in ast.walk(tree))
