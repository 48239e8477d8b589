"""``preflight.analysis.parsing``: the collector paused while trees are built, and restored after."""

from __future__ import annotations

import gc

import pytest

from preflight.analysis.parsing import gc_paused, parse, paused_gc
from preflight.config import Config
from preflight.engine import _check_python_files, _worker_start


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
