"""Issue 17 part A: values through wrappers, several files read as a project, eval paths, DataLoader
dicts, library loops, the cheap text test and parallel checking."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.analysis.project import MODULES
from preflight.analysis.values import BRANCH, join_entries
from preflight.config import Config
from preflight.engine import RunOptions, check_paths, check_subject
from preflight.inputs.pysource import code_subject

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
SIGMOID_MODEL = "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"


def found(src: str) -> list[tuple[str, int]]:
    subject = code_subject(textwrap.dedent(src).encode(), display="t.py", path="t.py")
    return [(f.code, f.location.line) for f in check_subject(subject, Config(), RunOptions(probe=False))]


def tree(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return check_paths([tmp_path], Config(), RunOptions(probe=False))


# --- values through wrappers -------------------------------------------------------------------

@pytest.mark.parametrize("wrap", [".to(device)", ".cuda()", ".cuda(0)", ".cpu()", ".float()", ".half()",
                                  ".train()", ".requires_grad_()"])
def test_methods_that_return_their_receiver_keep_loss_and_model(wrap):
    src = HEAD + f"device = 'cpu'\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()){wrap}\n" \
                 f"crit = nn.BCELoss(){wrap}\nloss = crit(model(x), y)\n"
    assert found(src) == [("PF301", 7)]


@pytest.mark.parametrize("wrap", ["nn.DataParallel({})", "nn.parallel.DistributedDataParallel({}, device_ids=[0])",
                                  "torch.compile({})", "torch.nn.SyncBatchNorm.convert_sync_batchnorm({})"])
def test_module_wrappers_return_the_module(wrap):
    src = HEAD + SIGMOID_MODEL + f"D = {wrap.format('model')}\nloss = nn.BCELoss()(D(x), y)\n"
    assert found(src) == [("PF301", 6)]


def test_fabric_and_accelerate_return_what_they_are_given():
    src = HEAD + SIGMOID_MODEL + textwrap.dedent("""\
        import lightning as L
        from accelerate import Accelerator
        fabric = L.Fabric()
        m1, opt = fabric.setup(model, torch.optim.SGD([], lr=1))
        m2 = fabric.setup_module(model)
        acc = Accelerator()
        opt2, m3 = acc.prepare(opt, model)
        a = nn.BCELoss()(m1(x), y)
        b = nn.BCELoss()(m2(x), y)
        c = nn.BCELoss()(m3(x), y)
        d = nn.BCELoss()(opt2(x), y)
    """)
    assert found(src) == [("PF301", 12), ("PF301", 13), ("PF301", 14)]


def test_a_loss_of_one_kind_on_both_branches_stays_that_loss_and_different_kinds_do_not():
    src = HEAD + SIGMOID_MODEL + textwrap.dedent("""\
        if gpu:
            a = nn.BCELoss().cuda(0)
            b = nn.BCELoss().cuda(0)
        else:
            a = nn.BCELoss()
            b = nn.MSELoss()
        la = a(model(x), y)
        lb = b(model(x), y)
    """)
    assert found(src) == [("PF301", 11)]


def test_default_and_constructor_argument_activations_are_followed_per_instance():
    src = HEAD + textwrap.dedent("""\
        class D(nn.Module):
            def __init__(self, f=torch.sigmoid):
                super().__init__()
                self.f = f
                self.out = nn.Linear(4, 1)
            def forward(self, x):
                return self.f(self.out(x))
        a = nn.BCELoss()(D()(x), y)
        b = nn.BCELoss()(D(torch.tanh)(x), y)
        c = nn.BCELoss()(D(f=args.act)(x), y)
        d = nn.BCELoss()(D(f=torch.sigmoid)(x), y)
    """)
    assert found(src) == [("PF301", 11), ("PF301", 14)]


# --- eval paths --------------------------------------------------------------------------------

@pytest.mark.parametrize("body,fires", [
    ("def train_step(x, y):\n    return crit(model(x), y)\n", True),
    ("def validate(x, y):\n    return crit(model(x), y)\n", False),
    ("def validation_step(self, x, y):\n    return crit(model(x), y)\n", False),
    ("def test_loop(x, y):\n    return crit(model(x), y)\n", False),
    ("def train_and_evaluate(x, y):\n    return crit(model(x), y)\n", True),
    ("def step(x, y):\n    with torch.no_grad():\n        l = crit(model(x), y)\n    return l\n", False),
    ("def step(x, y):\n    with torch.inference_mode():\n        return crit(model(x), y)\n", False),
    ("def step(x, y):\n    with torch.set_grad_enabled(False):\n        return crit(model(x), y)\n", False),
    ("def step(x, y):\n    with torch.set_grad_enabled(True):\n        return crit(model(x), y)\n", True),
    ("@torch.no_grad()\ndef step(x, y):\n    return crit(model(x), y)\n", False),
    ("def step(x, y):\n    model.eval()\n    return crit(model(x), y)\n", False),
    ("def step(x, y):\n    model.eval()\n    model.train()\n    return crit(model(x), y)\n", True),
    ("def step(x, y):\n    if a:\n        model.eval()\n    return crit(model(x), y)\n", True),
    ("def step(x, y):\n    crit(model(x), y).backward()\n    model.eval()\n    return crit(model(x), y)\n", True),
])
def test_eval_paths_are_not_training_paths(body, fires):
    src = HEAD + SIGMOID_MODEL + "crit = nn.BCELoss()\n" + body
    assert bool(found(src)) is fires


def test_a_helper_reached_from_training_and_from_evaluation_is_reported_once():
    src = HEAD + SIGMOID_MODEL + textwrap.dedent("""\
        def compute(x, y):
            return nn.BCELoss()(model(x), y)
        def evaluate(x, y):
            with torch.no_grad():
                return compute(x, y)
        def train(x, y):
            compute(x, y).backward()
        evaluate(x, y)
        train(x, y)
    """)
    assert found(src) == [("PF301", 6)]


@pytest.mark.parametrize("use,fires", [
    ("l = F.binary_cross_entropy(model(x), y)\nl.backward()", True),
    ("v = F.binary_cross_entropy(model(x), y).item()", False),
    ("v = F.binary_cross_entropy(model(x), y)\nprint(v.item())", False),
    ("v = F.binary_cross_entropy(model(x), y)\nprint(v.item())\nv.backward()", True),
    ("self.log('bce', F.binary_cross_entropy(model(x), y))", False),
    ("l = F.binary_cross_entropy(model(x), y)\ng, = torch.autograd.grad(l, x)", False),
    ("l = F.binary_cross_entropy(model(x), y)\nself.log('l', l)\nreturn l", True),
])
def test_losses_read_as_numbers_logged_or_differentiated_for_the_input_are_not_training(use, fires):
    body = "def step(self, x, y):\n" + textwrap.indent(use, "    ") + "\n"
    assert bool(found(HEAD + SIGMOID_MODEL + body)) is fires


# --- DataLoader(**kwargs) ----------------------------------------------------------------------

LOADER_HEAD = "import torch\nfrom torch.utils.data import DataLoader\n"


@pytest.mark.parametrize("build,fires", [
    ("kw = {'batch_size': 8}\nif cuda:\n    kw.update({'shuffle': True})", "only when `cuda`"),
    ("kw = {'batch_size': 8}\nif cuda:\n    kw['shuffle'] = True", "only when `cuda`"),
    ("kw = {'batch_size': 8}\nif cuda:\n    pass\nelse:\n    kw.update(shuffle=True)", "only when `not (cuda)`"),
    ("kw = dict(batch_size=8)", "no shuffle in `**kw`"),
    ("kw = {'batch_size': 8, 'shuffle': False}", "shuffle=False in `**kw`"),
    ("kw = {'batch_size': 8, 'shuffle': True}", None),
    ("kw = {'batch_size': 8}\nkw.update(other)", None),
    ("kw = {'batch_size': 8, 'sampler': s}", None),
    ("kw = {'batch_size': 8, **base}", None),
    ("kw = load()", None),
    ("kw = {'batch_size': 8}\nif cuda:\n    kw['shuffle'] = True\nelse:\n    kw['shuffle'] = False", None),
])
def test_dataloader_kwargs_from_dicts_built_in_the_code(build, fires):
    src = LOADER_HEAD + build + "\ntrain_loader = DataLoader(train_ds, **kw)\n"
    subject = code_subject(src, display="t.py")
    out = check_subject(subject, Config(), RunOptions(probe=False))
    if fires is None:
        assert out == []
    else:
        assert [f.code for f in out] == ["PF203"] and fires in out[0].message, out


def test_loaders_only_iterated_under_no_grad_or_in_a_smoke_test_are_not_training_loaders():
    base = LOADER_HEAD + "train_loader = DataLoader(train_ds, batch_size=4)\n"
    assert found(base) == [("PF203", 3)]
    assert found(base + "with torch.no_grad():\n    for x in train_loader:\n        f(x)\n") == []
    main = LOADER_HEAD + "if __name__ == '__main__':\n    train_loader = DataLoader(ds, batch_size=4)\n"
    assert found(main) == []
    assert found(main + "    for x, y in train_loader:\n        loss(x).backward()\n") == [("PF203", 4)]


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["True", "False", "?"])), max_size=4),
       st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["True", "False", "?"])), max_size=4))
@settings(max_examples=200, deadline=None)
def test_joining_dict_entries_is_symmetric_and_keeps_what_both_sides_agree_on(a, b):
    ea = tuple(sorted((k, v, "") for k, v in dict(a).items()))
    eb = tuple(sorted((k, v, "") for k, v in dict(b).items()))
    joined = join_entries(ea, eb)
    assert joined == join_entries(eb, ea)
    assert join_entries(ea, ea) == ea
    for key, val, cond in joined:
        in_a, in_b = dict(a).get(key), dict(b).get(key)
        if in_a is not None and in_b is not None:
            assert cond == "" and val == (in_a if in_a == in_b else "?")
        else:
            assert cond == BRANCH and val == (in_a or in_b)


# --- library loops -----------------------------------------------------------------------------

def test_ignite_and_hf_trainer_loops_pair_the_model_with_the_loss():
    src = HEAD + "from ignite.engine import create_supervised_trainer\nfrom transformers import Trainer\n" \
        "model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n" \
        "t1 = create_supervised_trainer(model, opt, nn.CrossEntropyLoss())\n" \
        "t2 = create_supervised_trainer(model, opt, loss_fn=F.nll_loss)\n" \
        "t3 = create_supervised_trainer(model, opt, nn.MSELoss())\n" \
        "logits = nn.Sequential(nn.Linear(4, 3))\n" \
        "t4 = create_supervised_trainer(logits, opt, nn.CrossEntropyLoss())\n" \
        "t5 = Trainer(model=model, args=args)\n"
    assert found(src) == [("PF302", 7), ("PF303", 8)]


# --- a project ---------------------------------------------------------------------------------

MODEL_FILE = """\
    import torch.nn as nn
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
        def forward(self, x):
            return self.body(x)
"""
TRAIN_USE = "\nloss = nn.BCELoss()(Net()(x), y)\n"


@pytest.mark.parametrize("imp,layout", [
    ("from models import Net", {"models.py": MODEL_FILE}),
    ("from models.net import Net", {"models/__init__.py": "", "models/net.py": MODEL_FILE}),
    ("from models import Net", {"models/__init__.py": "from .net import Net\n", "models/net.py": MODEL_FILE}),
    ("import models.net as m\nNet = m.Net", {"models/__init__.py": "", "models/net.py": MODEL_FILE}),
    ("import models.net\nNet = models.net.Net", {"models/__init__.py": "", "models/net.py": MODEL_FILE}),
    ("from models import net\nNet = net.Net", {"models/__init__.py": "", "models/net.py": MODEL_FILE}),
])
def test_a_model_defined_in_another_file_is_followed(tmp_path, imp, layout):
    report = tree(tmp_path, {**layout, "train.py": "import torch.nn as nn\n" + imp + TRAIN_USE})
    assert [(f.code, f.location.path) for f in report.findings] == [("PF301", str(tmp_path / "train.py"))]
    assert "(at models" in report.findings[0].message


def test_relative_imports_inside_a_package_and_a_cycle(tmp_path):
    report = tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/models.py": "from . import train\n" + textwrap.dedent(MODEL_FILE),
        "pkg/train.py": "import torch.nn as nn\nfrom .models import Net\nfrom . import models" + TRAIN_USE,
    })
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 4)]


def test_unknown_or_missing_modules_stay_unknown_and_a_local_name_does_not_shadow_torch(tmp_path):
    report = tree(tmp_path, {
        "train.py": "import torch.nn as nn\nfrom nowhere import Net\nfrom torch import sigmoid\n" + TRAIN_USE
                    + "l2 = nn.BCELoss()(sigmoid(x), y)\n",
        "torch.py": "def sigmoid(x):\n    return x\n",  # a file named like torch is not followed for torch
    })
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 6)]


def test_each_module_is_walked_once_and_findings_in_imported_code_stay_in_their_file(tmp_path, monkeypatch):
    from preflight.analysis.flow import ModuleFlow

    MODULES.clear()
    walks: list[str] = []
    original = ModuleFlow.run

    def counting(self, complete=True):
        walks.append(str(self.path))
        return original(self, complete)

    monkeypatch.setattr(ModuleFlow, "run", counting)
    common = textwrap.dedent(MODEL_FILE) + "    def loss(self, x, y):\n        return nn.BCELoss()(self(x), y)\n" \
        "from torch.utils.data import DataLoader\ndef loader(ds):\n    return DataLoader(ds)\n"
    files = {"common.py": common}
    for i in range(6):
        files[f"train{i}.py"] = ("import torch.nn as nn\nfrom common import Net, loader\ncrit = nn.BCELoss()\n"
                                 "train_loader = loader(ds)\nfor b in train_loader:\n    Net().loss(*b).backward()\n")
    report = tree(tmp_path, files)
    assert sorted(walks) == sorted(str(tmp_path / f) for f in files)  # each file once, common.py included
    # the loss call and the DataLoader are in common.py: that file's (where its own check finds them)
    assert {(f.code, f.location.path) for f in report.findings} == {("PF301", str(tmp_path / "common.py"))}


# --- speed: the cheap text test and workers ----------------------------------------------------

@pytest.mark.slow  # starts worker processes
def test_parallel_check_gives_the_serial_report(tmp_path, monkeypatch):
    files = {"models.py": MODEL_FILE}
    for i in range(60):
        files[f"t{i:02d}.py"] = "import torch.nn as nn\nfrom models import Net" + TRAIN_USE if i % 3 == 0 else \
            ("import torch\nfrom torch.utils.data import DataLoader\ntrain_loader = DataLoader(ds)\n" if i % 3 == 1
             else "import os\nprint(os.sep)\n")
    files["broken.py"] = "import torch\nnn.BCELoss(\n"
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.setenv("PREFLIGHT_JOBS", "1")
    serial = check_paths([tmp_path], Config(), RunOptions(probe=False))
    monkeypatch.setenv("PREFLIGHT_JOBS", "2")
    parallel = check_paths([tmp_path], Config(), RunOptions(probe=False))
    assert len(serial.findings) == 40 and len(serial.errors) == 1
    assert parallel.findings == serial.findings and parallel.errors == serial.errors
    assert parallel.summary["files"] == serial.summary["files"]
