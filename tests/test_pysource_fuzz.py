"""Property: no Python source that ``ast`` can parse makes the static checker crash.

Three sources of programs: hypothesmith (programs from Python's grammar, when installed), a grammar
of our own that writes training-script-shaped code with names that alias each other across imports,
classes, methods and loops (where the flow analysis has the most to follow), and a corpus of real
files (this repository's catalog and examples, and the standard library).
"""

from __future__ import annotations

import ast
import glob
import sysconfig
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.config import Config
from preflight.engine import RunOptions, check_subject
from preflight.errors import PreflightError
from preflight.inputs.pysource import code_subject
from tests.conftest import ROOT

CONFIG = Config()
OPTIONS = RunOptions(probe=False)


def run(source: str):
    """Check one parseable program: findings, or PreflightError for what the parser refuses."""
    try:
        subject = code_subject(source, display="fuzz.py")
    except PreflightError:
        return None
    findings = check_subject(subject, CONFIG, OPTIONS)
    for f in findings:
        assert f.code.startswith("PF") and f.location.line >= 1 and f.location.col >= 1
    return findings


# --- a grammar of training-script-shaped code -------------------------------------------------

NAMES = ["x", "y", "model", "crit", "out", "logits", "net", "loader", "train_loader", "self", "F", "nn", "torch",
         "ds", "probs"]
IMPORTS = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F", "from torch import nn",
           "from torch.nn import BCELoss, Sigmoid, Sequential", "import torch.nn as F",
           "from torch.utils.data import DataLoader", "import torch.utils.data as tud",
           "from .local import model", "from mylib import *", "import lightning as L"]
CALLEES = ["torch.sigmoid", "F.softmax", "F.log_softmax", "nn.Sequential", "nn.Sigmoid", "nn.Softmax",
           "nn.BCELoss", "nn.CrossEntropyLoss", "nn.NLLLoss", "nn.BCEWithLogitsLoss", "F.cross_entropy",
           "F.binary_cross_entropy", "DataLoader", "tud.DataLoader", "Net", "helper", "self.head", "self",
           "model", "crit", "torch.log", "nn.Linear", "enumerate", "BCELoss", "Sigmoid", "Sequential"]


def names():
    return st.sampled_from(NAMES)


def exprs(depth=3):
    leaf = st.one_of(names(), st.sampled_from(["1", "None", "True", "False", "'train'", "[]", "()"]))
    if depth <= 0:
        return leaf
    sub = exprs(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda f, a: f"{f}({', '.join(a)})", st.sampled_from(CALLEES), st.lists(sub, max_size=3)),
        st.builds(lambda f, a, k: f"{f}({a}, shuffle={k})", st.sampled_from(["DataLoader", "tud.DataLoader"]), sub,
                  st.sampled_from(["True", "False", "x", "None"])),
        st.builds(lambda r, m: f"{r}.{m}()", sub, st.sampled_from(["sigmoid", "softmax", "view", "to", "squeeze",
                                                                   "log", "forward", "train", "predict"])),
        st.builds(lambda a, b: f"({a}, {b})", sub, sub),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", sub, sub, sub),
        st.builds(lambda a, b: f"{a}[{b}]", sub, sub),
        st.builds(lambda a: f"[{a} for _ in {a}]", sub),
        st.builds(lambda a, b: f"({a} := {b})", st.sampled_from(["out", "probs"]), sub),
        st.builds(lambda a: f"lambda: {a}", sub),
    )


def targets():
    return st.one_of(names(), st.sampled_from(["self.model", "self.crit", "self.head", "a, b", "out, *rest",
                                               "d['train']", "self.x.y"]))


def blocks(depth):
    simple = st.one_of(
        st.builds(lambda t, e: f"{t} = {e}", targets(), exprs()),
        st.builds(lambda e: f"{e}", exprs()),
        st.builds(lambda e: f"return {e}", exprs()),
        st.sampled_from(["pass", "loss.backward()", "optimizer.step()", "del x", "global x", "x += 1"]),
    )
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=4)
    inner = blocks(depth - 1)
    compound = st.one_of(
        st.builds(lambda e, a, b: ["if " + e + ":", *_ind(a), "else:", *_ind(b)], exprs(1), inner, inner),
        st.builds(lambda t, e, a: [f"for {t} in {e}:", *_ind(a)], st.sampled_from(["x", "x, y", "(i, (x, y))"]),
                  exprs(1), inner),
        st.builds(lambda a: ["while x:", *_ind(a)], inner),
        st.builds(lambda a, b: ["try:", *_ind(a), "except Exception:", *_ind(b), "finally:", "    pass"], inner,
                  inner),
        st.builds(lambda e, a: [f"with {e} as x:", *_ind(a)], exprs(1), inner),
        st.builds(lambda n, p, a: [f"def {n}({p}):", *_ind(a)],
                  st.sampled_from(["forward", "helper", "training_step", "train_dataloader", "step", "head",
                                   "__init__", "predict"]),
                  st.sampled_from(["self", "self, x", "x, y=1, *a, **k", "", "self, batch, idx"]), inner),
        st.builds(lambda n, b, a: [f"class {n}({b}):", *_ind(a)], st.sampled_from(["Net", "BCELoss", "DM", "Stream"]),
                  st.sampled_from(["nn.Module", "L.LightningModule", "Net", "tud.IterableDataset", "object"]), inner),
    )
    return st.lists(st.one_of(simple.map(lambda s: [s]), compound), min_size=1, max_size=4).map(
        lambda parts: [line for part in parts for line in part])


def _ind(lines):
    return ["    " + ln for ln in lines]


programs = st.builds(lambda imps, body: "\n".join(imps + body) + "\n",
                     st.lists(st.sampled_from(IMPORTS), max_size=4), blocks(3))


@pytest.mark.slow  # 300 generated programs
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs)
def test_training_shaped_programs_never_crash(source):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError:
        return  # the grammar can write `return` at module level and the like: not a parseable input
    run(source)


def test_the_grammar_reaches_findings():
    """The generator is not vacuous: its building blocks produce findings the checker reports."""
    src = ("import torch.nn as nn\nimport torch\nfrom torch.utils.data import DataLoader\n"
           "crit = nn.BCELoss()\nout = crit(torch.sigmoid(x), y)\ntrain_loader = DataLoader(ds, shuffle=False)\n")
    assert sorted(f.code for f in run(src)) == ["PF203", "PF301"]



@pytest.mark.slow  # 150 grammar-generated programs
@pytest.mark.skipif(__import__("importlib").util.find_spec("hypothesmith") is None,
                    reason="hypothesmith is not installed (pip install hypothesmith)")
def test_grammar_generated_python_never_crashes():
    import hypothesmith

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(hypothesmith.from_grammar())
    def inner(source):
        run(source)

    inner()


# --- real files ----------------------------------------------------------------------------------

CORPUS = (sorted(str(p) for p in (ROOT / "rules").glob("*/*.py"))
          + sorted(str(p) for p in (ROOT / "examples").glob("*.py")))
STDLIB = sorted(glob.glob(sysconfig.get_paths()["stdlib"] + "/*.py"))[::7]


@pytest.mark.parametrize("path", CORPUS + STDLIB, ids=lambda p: p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1])
def test_real_files_never_crash(path):
    data = Path(path).read_bytes()
    try:
        subject = code_subject(data, display=path)
    except PreflightError:
        return
    check_subject(subject, CONFIG, OPTIONS)
    # every prefix of the file that still parses is checked too (half-written files in an editor)
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    for cut in range(len(lines) // 4, len(lines), max(1, len(lines) // 6)):
        text = "".join(lines[:cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        run(text)
