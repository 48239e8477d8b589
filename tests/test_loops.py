"""The training-loop rules PF501-PF506: shapes from real training code that must fire or stay silent,
the facts the pass records, and properties (a fix silences its rule; no rule crashes on generated loops)."""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.analysis import loops as lp
from preflight.config import Config
from preflight.engine import RunOptions, check_subject
from preflight.inputs.notebook import notebook_subject
from preflight.inputs.pysource import code_subject

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(src: str, head: str = HEAD) -> list[tuple[str, int]]:
    subject = code_subject(head + textwrap.dedent(src), display="t.py", path="t.py")
    return sorted((f.code, f.location.line - head.count("\n")) for f in check_subject(
        subject, Config(), RunOptions(probe=False)) if f.code.startswith("PF5"))


def codes(src: str, head: str = HEAD) -> list[str]:
    return [c for c, _ in found(src, head)]


TRAIN = """
for x, y in loader:
    {zero}
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
"""


# --- PF501 -------------------------------------------------------------------------------------

def test_pf501_fires_at_the_step_and_not_once_zeroed():
    assert found(TRAIN.format(zero="pass")) == [("PF501", 6)]
    for zero in ("optimizer.zero_grad()", "model.zero_grad()", "optimizer.zero_grad(set_to_none=True)",
                 "for p in model.parameters(): p.grad = None"):
        assert codes(TRAIN.format(zero=zero)) == [], zero


def test_pf501_needs_a_training_loop():
    # no step() (a manual SGD update), no backward() (an optimizer-free loop), no torch import
    assert codes("for x in xs:\n    loss = f(x)\n    loss.backward()\n    for p in ps: p.data -= lr * p.grad\n") == []
    assert codes("for x in xs:\n    optimizer.step()\n") == []
    assert codes(TRAIN.format(zero="pass"), head="") == []


def test_pf501_scheduler_step_is_not_an_optimizer_step():
    src = "for x in xs:\n    loss = f(x)\n    loss.backward()\n    scheduler.step()\n    lr_sched.step()\n"
    assert codes(src) == []


def test_pf501_an_unknown_helper_that_gets_the_optimizer_is_not_judged_but_a_local_one_is():
    zero_in_helper = "def reset(opt):\n    opt.zero_grad()\n" + TRAIN.format(zero="reset(optimizer)")
    no_zero_in_helper = "def reset(opt):\n    print(opt)\n" + TRAIN.format(zero="reset(optimizer)")
    assert codes(zero_in_helper) == []
    assert codes(no_zero_in_helper) == ["PF501"]



def test_pf501_an_unresolved_helper_named_for_clearing_gradients_is_taken_at_its_word():
    # yunjey/pytorch-tutorial's GAN calls reset_grad(); imported from another file it cannot be read
    assert codes(TRAIN.format(zero="reset_grad()")) == []
    assert codes(TRAIN.format(zero="self_clear_gradients()")) == []
    assert codes(TRAIN.format(zero="reset_state()")) == ["PF501"]  # a name that says nothing about gradients
    defined_empty = "def reset_grad():\n    pass\n" + TRAIN.format(zero="reset_grad()")
    assert codes(defined_empty) == ["PF501"]  # a helper it can read is judged by what it does


# --- PF502 -------------------------------------------------------------------------------------

EVAL = """
model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
def evaluate(model, loader):
    {pre}
    for x, y in loader:
        acc = (model(x).argmax(1) == y).float().mean().item()
"""


def test_pf502_missing_eval_is_a_warning_and_missing_no_grad_info():
    subject = code_subject(HEAD + EVAL.format(pre="pass"), display="t.py")
    (f,) = check_subject(subject, Config(), RunOptions(probe=False))
    assert (f.code, str(f.severity)) == ("PF502", "warning") and "without model.eval() or torch.no_grad()" in f.message
    subject = code_subject(HEAD + EVAL.format(pre="model.eval()"), display="t.py")
    (f,) = check_subject(subject, Config(), RunOptions(probe=False))
    assert (f.code, str(f.severity)) == ("PF502", "info")
    assert codes(EVAL.format(pre="model.eval(); torch.set_grad_enabled(False)")) == []


def test_pf502_option_turns_the_no_grad_half_off():
    subject = code_subject(HEAD + EVAL.format(pre="model.eval()"), display="t.py")
    assert check_subject(subject, Config(rule_options={"PF502": {"check_no_grad": False}}),
                         RunOptions(probe=False)) == []


def test_pf502_without_dropout_or_norm_only_no_grad_counts():
    src = EVAL.format(pre="pass").replace(", nn.Dropout(0.1)", "")
    subject = code_subject(HEAD + src, display="t.py")
    assert [str(f.severity) for f in check_subject(subject, Config(), RunOptions(probe=False))] == ["info"]


def test_pf502_training_loops_and_unnamed_loops_are_not_eval_loops():
    assert codes("model = nn.Dropout(0.5)\nfor x, y in loader:\n    model(x)\n") == []
    assert codes("model = nn.Dropout(0.5)\ndef test(model, loader):\n    for x, y in loader:\n"
                 "        loss = model(x).sum()\n        loss.backward()\n        opt.step()\n        opt.zero_grad()\n"
                 ) == []


def test_pf502_pytest_tests_are_not_eval_functions():
    src = "import pytest\nmodel = nn.Dropout(0.5)\ndef test_shapes():\n    for x in xs:\n        model(x)\n"
    assert codes(src) == []


# --- PF503 -------------------------------------------------------------------------------------

ACC = """
total = 0
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    total += {value}
"""


@pytest.mark.parametrize("value, fires", [
    ("loss", True), ("loss * x.size(0)", True), ("criterion(model(x), y)", True),
    ("loss.item()", False), ("float(loss)", False), ("loss.detach()", False), ("loss.data", False),
    ("loss.item() * x.size(0)", False), ("1", False), ("acc", False),
])
def test_pf503_values(value, fires):
    assert codes(ACC.format(value=value)) == (["PF503"] if fires else [])


def test_pf503_a_reassigned_loss_is_followed_in_order():
    src = ACC.format(value="loss").replace("    total +=", "    loss = loss.item()\n    total +=")
    assert codes(src) == []


def test_pf503_summing_to_backward_once_is_silent():
    src = ("optimizer.zero_grad()\nloss = 0\nfor x, y in chunks:\n    loss += F.mse_loss(model(x), y)\n"
           "loss.backward()\noptimizer.step()\n")
    assert codes(src) == []


# --- PF504 -------------------------------------------------------------------------------------

EPOCHS = """
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
{pre}
for epoch in range(10):
    {top}
    for x, y in loader:
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    {eval}
"""


def test_pf504_fires_at_the_eval_call_and_train_anywhere_in_the_loop_restores():
    assert found(EPOCHS.format(pre="model.train()", top="pass", eval="model.eval()")) == [("PF504", 10)]
    assert codes(EPOCHS.format(pre="", top="model.train()", eval="model.eval()")) == []
    assert codes(EPOCHS.format(pre="", top="pass", eval="model.eval(); model.train()")) == []


def test_pf504_only_the_optimized_model_counts():
    assert codes(EPOCHS.format(pre="", top="pass", eval="ema.eval()")) == []


# --- PF505 -------------------------------------------------------------------------------------

DIST = """
from torch.utils.data.distributed import DistributedSampler
sampler = DistributedSampler(ds{args})
loader = torch.utils.data.DataLoader(ds, sampler=sampler)
for epoch in range(3):
    {set}
    for batch in loader:
        step(batch)
"""


def test_pf505():
    assert found(DIST.format(args="", set="pass")) == [("PF505", 3)]
    assert codes(DIST.format(args="", set="sampler.set_epoch(epoch)")) == []
    assert codes(DIST.format(args=", shuffle=False", set="pass")) == []
    assert codes(DIST.format(args="", set="pass").replace("sampler = ", "val_sampler = ")) == []


# --- PF506 -------------------------------------------------------------------------------------

ACCUM = """
for i, (x, y) in enumerate(loader):
    loss = F.cross_entropy(model(x), y){div}
    {backward}
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
"""


@pytest.mark.parametrize("div, backward, fires", [
    ("", "loss.backward()", True),
    (" / k", "loss.backward()", False),
    ("", "(loss / k).backward()", False),
    ("", "loss /= k; loss.backward()", False),
    ("", "scaler.scale(loss).backward()", True),
    ("", "scaler.scale(loss / k).backward()", False),
])
def test_pf506(div, backward, fires):
    assert codes(ACCUM.format(div=div, backward=backward)) == (["PF506"] if fires else [])


def test_pf506_follows_apex_scale_loss_but_not_a_divided_input():
    apex = "with amp.scale_loss(loss, optimizer) as scaled_loss:\n        scaled_loss.backward()"
    assert codes(ACCUM.format(div=" / k", backward=apex)) == []
    assert codes(ACCUM.format(div="", backward=apex)) == ["PF506"]
    scaled_input = ACCUM.replace("    loss = F", "    x = x / 255.0\n    loss = F")
    assert codes(scaled_input.format(div="", backward="loss.backward()")) == ["PF506"]


# --- notebooks, facts, properties ----------------------------------------------------------------

def test_loop_rules_read_notebooks_and_place_the_cell():
    import json
    nb = json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": HEAD},
                                              {"cell_type": "markdown", "source": "train"},
                                              {"cell_type": "code", "source": TRAIN.format(zero="pass")}]})
    (f,) = check_subject(notebook_subject(nb, display="nb.ipynb"), Config(), RunOptions(probe=False))
    assert (f.code, f.location.cell, f.location.cell_line) == ("PF501", 3, 6)


def test_facts_record_loops_no_grad_and_modulo():
    tree = ast.parse(HEAD + "with torch.no_grad():\n    for x in xs:\n        if i % 4 == 0:\n            opt.step()\n")
    m = lp.analyse_loops(tree)
    (top,) = [f for f in m.functions if f.name == lp.MODULE]
    (loop,) = top.loops
    (step,) = [c for c in top.calls if c.attr == "step"]
    assert (loop.no_grad, loop.iterates, step.modulo_if, step.no_grad, step.loops) == (True, "xs", True, True, (0,))


def test_imports_resolve_qualified_names():
    m = lp.analyse_loops(ast.parse("from torch.utils.data.distributed import DistributedSampler as DS\n"
                                   "import torch.optim as optim\nDS(ds)\noptim.SGD(net.parameters())\n"))
    quals = {c.qual for f in m.functions for c in f.calls}
    assert lp.DISTRIBUTED_SAMPLER in quals and "torch.optim.SGD" in quals
    assert m.optimized == frozenset({"net"})


STATEMENTS = st.sampled_from([
    "optimizer.zero_grad()", "loss = criterion(model(x), y)", "loss.backward()", "optimizer.step()",
    "total += loss", "total += loss.item()", "model.eval()", "model.train()", "loss = loss / k",
    "if i % k == 0:\n        optimizer.step()", "with torch.no_grad():\n        model(x)", "evaluate(model)",
    "sampler.set_epoch(epoch)", "losses.append(loss)", "pass",
])


@settings(max_examples=50, deadline=None)
@given(st.lists(STATEMENTS, min_size=1, max_size=8), st.sampled_from(["loader", "val_loader", "range(3)"]))
def test_no_rule_crashes_and_zeroing_first_silences_pf501(body, iterated):
    src = (f"model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))\nsampler = DistributedSampler(ds)\n"
           f"def evaluate(m):\n    m.eval()\nfor epoch in range(2):\n  for i, (x, y) in enumerate({iterated}):\n    "
           + "\n    ".join(body) + "\n")
    head = HEAD + "from torch.utils.data import DistributedSampler\n"
    codes(src, head)  # no rule crashes on any generated loop (an exception fails the test)
    loop_head = f"enumerate({iterated}):\n"
    zeroed = src.replace(loop_head, loop_head + "    optimizer.zero_grad()\n", 1)
    assert zeroed != src
    assert "PF501" not in codes(zeroed, head)
    detached = src.replace("total += loss\n", "total += loss.item()\n").replace("losses.append(loss)\n", "pass\n")
    assert "PF503" not in codes(detached, head)


def test_a_folder_walk_reads_a_file_that_only_a_loop_rule_can_flag(tmp_path):
    """A training script with MSELoss and no DataLoader: named or found in a folder, PF501 fires."""
    from preflight.config import Config
    from preflight.engine import RunOptions, check_paths

    (tmp_path / "train.py").write_text(HEAD + textwrap.dedent("""
        model = nn.Linear(4, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        criterion = nn.MSELoss()
        for x, y in batches:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
    """), encoding="utf-8")
    for target in (tmp_path / "train.py", tmp_path):
        report = check_paths([target], Config(), RunOptions(probe=False))
        assert [f.code for f in report.findings] == ["PF501"], target
