"""Static checks of Python source: PF203 and PF301-PF305 on code read with ``ast``, never run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from preflight.config import Config
from preflight.engine import RunOptions, check_paths, check_subject
from preflight.errors import PreflightError
from preflight.inputs.pysource import code_subject, suppressions
from tests.conftest import ROOT, run_cli


def findings(src: str, **config):
    subject = code_subject(textwrap.dedent(src).encode(), display="t.py", path="t.py")
    return [(f.code, f.location.line, f.location.col) for f in check_subject(subject, Config(**config),
                                                                              RunOptions(probe=False))]


def codes(src: str):
    return sorted({c for c, _, _ in findings(src)})


# --- name resolution ---------------------------------------------------------------------------

@pytest.mark.parametrize("imports,loss", [
    ("import torch\nimport torch.nn as nn", "nn.BCELoss()"),
    ("import torch\nfrom torch.nn import BCELoss", "BCELoss()"),
    ("import torch\nfrom torch.nn import BCELoss as B", "B()"),
    ("import torch\nimport torch.nn", "torch.nn.BCELoss()"),
    ("import torch\nfrom torch import nn", "nn.modules.loss.BCELoss()"),
    ("import torch\nimport torch.nn.functional as F", "F.binary_cross_entropy"),
    ("import torch\nfrom torch.nn.functional import binary_cross_entropy as bce", "bce"),
])
def test_loss_resolves_through_every_import_style(imports, loss):
    src = f"{imports}\ncrit = {loss}\ndef step(m, x, y):\n    return crit(torch.sigmoid(m(x)), y)\n"
    assert findings(src) == [("PF301", len(imports.splitlines()) + 3, 12)]


def test_local_class_named_like_a_torch_loss_is_not_one():
    src = """
    import torch
    from torch.nn import BCELoss

    class BCELoss:  # shadows the import from here on
        def __call__(self, p, y):
            return 0

    crit = BCELoss()
    loss = crit(torch.sigmoid(x), y)
    """
    assert findings(src) == []


def test_alias_of_the_wrong_module_does_not_fool_it():
    src = """
    import torch
    import torch.nn as F
    loss = F.binary_cross_entropy(torch.sigmoid(x), y)
    loss2 = F.cross_entropy(F.softmax(x), y)
    """
    assert findings(src) == []


def test_no_torch_import_no_findings():
    src = """
    def sigmoid(x): return x
    class BCELoss:
        def __call__(self, a, b): return 0
    loss = BCELoss()(sigmoid(1).sigmoid(), 0)
    """
    assert findings(src) == []


# --- value flow --------------------------------------------------------------------------------

def test_sequential_last_element_and_column_is_one_based():
    src = """
    import torch.nn as nn
    model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    crit = nn.BCELoss()
    l = crit(model(x), y)
    """
    assert findings(src) == [("PF301", 5, 5)]


def test_sigmoid_not_last_in_sequential_is_silent():
    src = """
    import torch.nn as nn
    model = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1))
    l = nn.BCELoss()(model(x), y)
    """
    assert findings(src) == []


def test_statement_order_softmax_after_the_loss_is_not_a_bug():
    src = """
    import torch.nn.functional as F
    def step(model, x, y):
        out = model(x)
        loss = F.cross_entropy(out, y)
        out = F.softmax(out, dim=1)
        return loss, F.cross_entropy(out, y)
    """
    assert findings(src) == [("PF302", 7, 18)]


def test_branches_join_only_when_every_branch_agrees():
    src = """
    import torch, torch.nn as nn
    crit = nn.BCELoss()
    def step(m, x, y, flag):
        out = m(x)
        if flag:
            out = torch.sigmoid(out)
        a = crit(out, y)
        if flag:
            p = torch.sigmoid(out)
        else:
            p = out.sigmoid()
        return a + crit(p, y)
    """
    assert findings(src) == [("PF301", 13, 16)]


def test_self_attributes_helpers_and_models_held_in_attributes():
    src = """
    import torch
    from torch import nn
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)
        def forward(self, x):
            return self._finish(self.fc(x))
        def _finish(self, z):
            return z.softmax(dim=-1)
    class Wrapper:
        def __init__(self):
            self.model = Head().to("cpu")
            self.loss = nn.NLLLoss()
        def step(self, x, y):
            return self.loss(self.model(x), y)
    """
    assert findings(src) == [("PF303", 17, 16)]


def test_predict_method_with_sigmoid_while_training_uses_logits_is_silent():
    src = """
    import torch, torch.nn as nn
    class Net(nn.Module):
        def forward(self, x): return self.fc(x)
        def predict(self, x): return torch.sigmoid(self(x))
    net = Net()
    loss = nn.BCEWithLogitsLoss()(net(x), y)
    probs = net.predict(x)
    """
    assert findings(src) == []


def test_predict_method_output_fed_to_the_loss_is_reported():
    src = """
    import torch, torch.nn as nn
    class Net(nn.Module):
        def forward(self, x): return self.fc(x)
        def predict(self, x): return torch.sigmoid(self(x))
    net = Net()
    loss = nn.BCEWithLogitsLoss()(net.predict(x), y)
    """
    assert findings(src) == [("PF304", 7, 8)]


def test_every_pair_maps_to_its_code_and_correct_pairs_are_silent():
    src = """
    import torch, torch.nn as nn, torch.nn.functional as F
    a = nn.BCELoss()(torch.sigmoid(z), y)
    b = nn.CrossEntropyLoss()(torch.softmax(z, 1), y)
    c = nn.NLLLoss()(F.softmax(z, 1), y)
    d = nn.BCEWithLogitsLoss()(z.sigmoid(), y)
    e = F.cross_entropy(F.log_softmax(z, 1), y)
    ok1 = nn.NLLLoss()(F.log_softmax(z, 1), y)
    ok2 = nn.MSELoss()(torch.sigmoid(z), y)
    ok3 = nn.BCEWithLogitsLoss()(z, y)
    ok4 = nn.CrossEntropyLoss()(z, y)
    ok5 = F.nll_loss(torch.log(F.softmax(z, 1)), y)
    """
    assert findings(src) == [("PF301", 3, 5), ("PF302", 4, 5), ("PF303", 5, 5), ("PF304", 6, 5), ("PF305", 7, 5)]


def test_pf305_is_info_severity():
    from preflight.checks import RULES_BY_CODE
    from preflight.findings import Severity

    assert RULES_BY_CODE["PF305"].severity == Severity.INFO
    assert RULES_BY_CODE["PF302"].severity == Severity.ERROR


def test_tuple_returns_and_functions_followed_from_call_sites():
    src = """
    import torch, torch.nn.functional as F
    class VAE(torch.nn.Module):
        def forward(self, x):
            return torch.sigmoid(self.dec(x)), 0, 0
    def loss_function(recon, x):
        return F.binary_cross_entropy(recon, x)
    model = VAE()
    def train():
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x)
        other = loss_function(mu, x)
    """
    assert findings(src) == [("PF301", 7, 12)]


def test_lightning_training_step():
    src = """
    import lightning as L
    import torch
    class Lit(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
            self.loss_fn = torch.nn.CrossEntropyLoss()
        def forward(self, x):
            return self.net(x)
        def training_step(self, batch, idx):
            x, y = batch
            return self.loss_fn(self(x), y)
    """
    assert findings(src) == [("PF302", 13, 16)]


def test_attention_softmax_is_silent():
    src = """
    import torch, torch.nn.functional as F
    def forward(q, k, v, proj):
        attn = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        return proj(attn @ v)
    loss = F.cross_entropy(forward(q, k, v, proj), y)
    """
    assert findings(src) == []


def test_unicode_before_the_call_gives_a_character_column():
    src = 'import torch, torch.nn as nn\nx = "é"; l = nn.BCELoss()(torch.sigmoid(z), y)\n'
    assert findings(src) == [("PF301", 2, 14)]


# --- PF203 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,fires", [
    ("DataLoader(train_ds, batch_size=32)", True),
    ("DataLoader(train_ds, batch_size=32, shuffle=False)", True),
    ("DataLoader(train_ds, 32, False)", True),
    ("DataLoader(train_ds, batch_size=32, shuffle=None)", True),
    ("DataLoader(train_ds, batch_size=32, shuffle=True)", False),
    ("DataLoader(train_ds, 32, True)", False),
    ("DataLoader(train_ds, batch_size=32, shuffle=cfg.shuffle)", False),
    ("DataLoader(train_ds, batch_size=32, sampler=s)", False),
    ("DataLoader(train_ds, batch_sampler=bs)", False),
    ("DataLoader(train_ds, 32, False, s)", False),
    ("DataLoader(train_ds, batch_size=32, sampler=None)", True),
    ("DataLoader(train_ds, **kw)", False),
    ("DataLoader(*args)", False),
])
def test_pf203_shuffle_arguments(call, fires):
    src = f"from torch.utils.data import DataLoader\ntrain_loader = {call}\n"
    assert findings(src) == ([("PF203", 2, 16)] if fires else [])


@pytest.mark.parametrize("name", ["val_loader", "test_loader", "eval_dl", "validLoader", "holdout_loader"])
def test_pf203_eval_loaders_are_silent(name):
    assert findings(f"import torch.utils.data as tud\n{name} = tud.DataLoader(ds, batch_size=8)\n") == []


def test_pf203_loader_without_any_training_hint_is_silent():
    assert findings("from torch.utils.data import DataLoader\nloader = DataLoader(ds)\n") == []


def test_pf203_training_loop_makes_an_unnamed_loader_a_training_loader():
    src = """
    from torch.utils.data import DataLoader
    loader = DataLoader(ds, batch_size=8)
    for x, y in enumerate(loader):
        loss = model(x).sum()
        loss.backward()
    """
    assert findings(src) == [("PF203", 3, 10)]


def test_pf203_dataset_hints_and_iterable_datasets():
    src = """
    import torch
    from torch.utils.data import DataLoader, IterableDataset
    from torchvision.datasets import MNIST
    class Stream(IterableDataset):
        def __iter__(self): yield 1
    class SubStream(Stream):
        pass
    a = DataLoader(MNIST("d", train=True), batch_size=8)
    b = DataLoader(MNIST("d", train=False), batch_size=8)
    train_loader = DataLoader(SubStream(), batch_size=8)
    c = DataLoader(Subset(trainset, idx), batch_size=8)
    """
    assert findings(src) == [("PF203", 9, 5), ("PF203", 12, 5)]


def test_pf203_lightning_train_dataloader():
    src = """
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader
    class DM(pl.LightningDataModule):
        def train_dataloader(self):
            return DataLoader(self.ds, batch_size=8)
        def val_dataloader(self):
            return DataLoader(self.ds, batch_size=8)
        def test_dataloader(self):
            return DataLoader(self.ds, batch_size=8, shuffle=False)
    """
    assert findings(src) == [("PF203", 6, 16)]


def test_pf203_function_merely_named_dataloader_is_silent():
    src = """
    import torch
    def DataLoader(ds, batch_size):
        return ds
    train_loader = DataLoader(ds, batch_size=8)
    """
    assert findings(src) == []


def test_pf203_factory_loader_takes_the_name_it_is_assigned_to():
    src = """
    from torch.utils.data import DataLoader
    def make(ds):
        return DataLoader(ds, batch_size=8)
    train_loader = make(train_ds)
    """
    assert findings(src) == [("PF203", 4, 12)]


SHARED_HELPER = """
import torch
from torch.utils.data import DataLoader
def build(ds{params}):
    return DataLoader(ds, batch_size=32{extra})
{callers}
for epoch in range(3):
    for x, y in {looped}:
        loss = criterion(model(x), y)
        {step}
"""
TRAIN_AND_VAL = "train_loader = build(train_ds{a})\nval_loader = build(val_ds{b})"


def _shared(params="", extra="", callers=TRAIN_AND_VAL, a="", b="", looped="train_loader",
            step="loss.backward()"):
    return SHARED_HELPER.format(params=params, extra=extra, callers=callers.format(a=a, b=b), looped=looped,
                                step=step)


def test_pf203_helper_shared_by_train_and_val_is_a_training_loader_when_trained_on():
    # the val caller's name does not hide the training loop over the train caller's copy;
    # the finding is on the helper's DataLoader(...) line, where the fix goes
    src = _shared()
    assert findings(src) == [("PF203", 5, 12)]
    subject = code_subject(textwrap.dedent(src).encode(), display="t.py", path="t.py")
    (finding,) = check_subject(subject, Config(), RunOptions(probe=False))
    assert "built in `build()`" in finding.message
    assert "used for training via `train_loader` (the loop at line 9)" in finding.message


def test_pf203_helper_trained_on_in_a_function_and_as_self_attributes():
    src = """
    from torch.utils.data import DataLoader
    def build(ds):
        return DataLoader(ds, batch_size=32)
    def fit(model, loader):
        for i, (x, y) in enumerate(tqdm(loader)):
            optimizer.zero_grad()
            model(x).sum().backward()
    train_loader = build(train_ds)
    val_loader = build(val_ds)
    fit(model, train_loader)
    class Trainer:
        def __init__(self, tr, va):
            self.train_loader = self.make(tr)
            self.val_loader = self.make(va)
        def make(self, ds):
            return DataLoader(ds, batch_size=8)
        def fit(self):
            for x in self.train_loader:
                x.backward()
    """
    assert findings(src) == [("PF203", 4, 12), ("PF203", 17, 16)]


@pytest.mark.parametrize("kw", [
    dict(params=", shuffle", extra=", shuffle=shuffle", a=", True", b=", False"),  # the caller decides
    dict(params=", train=False", extra=", shuffle=train", a=", train=True"),
    dict(extra=", sampler=sampler"),
    dict(callers="val_loader = build(val_ds)\ntest_loader = build(test_ds)", looped="val_loader",
         step="total += loss.item()"),  # a helper only used for val/test
    dict(step="total += loss.item()"),  # no loop trains on it
    dict(callers="loader_a = build(a_ds)\nval_loader = build(val_ds)", looped="val_loader"),  # loop says val
])
def test_pf203_shared_helper_silent_cases(kw):
    # PF5xx ignored: the val loop here runs outside no_grad, which PF502 reports (at info)
    assert findings(_shared(**kw), ignore=("PF5",)) == []


def test_pf203_training_loop_does_not_override_an_eval_name_where_the_loader_is_built():
    src = """
    from torch.utils.data import DataLoader
    def evaluate_loader(ds):
        return DataLoader(ds, batch_size=32)
    loader = evaluate_loader(ds)
    test_loader = DataLoader(test_ds)
    for x, y in loader:
        x.backward()  # gradients on test data (an attack, saliency): not training
    for x, y in test_loader:
        x.backward()
    """
    assert findings(src) == []


# --- suppression -------------------------------------------------------------------------------

def test_suppression_comments():
    src = """
    import torch, torch.nn as nn
    from torch.utils.data import DataLoader
    a = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore[PF301]
    b = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore[PF203, PF302]
    c = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore
    d = nn.BCELoss()(torch.sigmoid(z), y)  # PREFLIGHT: IGNORE[pf3]
    train_loader = DataLoader(
        train_ds, batch_size=8,
    )  # preflight: ignore[PF203]
    s = "# preflight: ignore[PF301]"; e = nn.BCELoss()(torch.sigmoid(z), y)
    """
    assert findings(src) == [("PF301", 5, 5), ("PF301", 11, 39)]


def test_suppressions_parse_codes():
    assert suppressions("x = 1  # preflight: ignore[PF203,PF301]\ny = 2 # preflight: ignore\n") == {
        1: frozenset({"PF203", "PF301"}), 2: None}


# --- reading files -----------------------------------------------------------------------------

def _check_files(tmp_path, files: dict[str, bytes]):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return check_paths([tmp_path], Config(), RunOptions(probe=False))


TRAINING = b"from torch.utils.data import DataLoader\n"  # passes the cheap text test: the file is parsed


def test_syntax_error_is_one_line_and_other_files_are_still_checked(tmp_path):
    report = _check_files(tmp_path, {
        "broken.py": b"import torch\nloss = torch.nn.BCELoss()\ndef f(:\n    pass\n",
        "train.py": b"import torch, torch.nn as nn\nl = nn.BCELoss()(torch.sigmoid(z), y)\n",
    })
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 2)]
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{tmp_path / 'broken.py'}:3: syntax error")
    assert "\n" not in report.errors[0] and "Traceback" not in report.errors[0]


CELL_SCRIPT = (b"# %%\nimport torch, torch.nn as nn\n%matplotlib inline\n!pip install tqdm\n"
               b"print('[%d]'\n      % (3,))\n# %%\nl = nn.BCELoss()(torch.sigmoid(z), y)\n")


def test_a_cell_script_with_ipython_magics_is_read_with_the_magics_blanked(tmp_path):
    report = _check_files(tmp_path, {"cells.py": CELL_SCRIPT})
    assert report.errors == ()
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 8)]  # line numbers kept
    subject = code_subject(CELL_SCRIPT, "cells.py")
    assert any("%magic and !shell lines were read as `pass`" in n for n in subject.notes)


def test_a_magic_line_without_cell_markers_is_still_a_syntax_error(tmp_path):
    report = _check_files(tmp_path, {"plain.py": CELL_SCRIPT.replace(b"# %%\n", b"\n")})
    assert len(report.errors) == 1 and "plain.py:3: syntax error" in report.errors[0]
    assert report.findings == ()


@pytest.mark.parametrize("data,expected", [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00binary", "is not Python source"),
    (b"x = 1\ny = '\xff\xfe'\n", ":2: is not valid utf-8 (byte 0xff)"),
    (b"# -*- coding: klingon -*-\nx = 1\n", "bad encoding declaration"),
    (TRAINING + b"x = " + b"-" * 200000 + b"1\n", "nested too deeply"),
    (TRAINING + b"x = " + b"a." * 100000 + b"b\n", "nested too deeply"),
])
def test_unreadable_sources_are_one_clear_line(tmp_path, data, expected):
    report = _check_files(tmp_path, {"bad.py": data})
    assert report.findings == () and len(report.errors) == 1
    assert expected in report.errors[0], report.errors[0]
    assert "\n" not in report.errors[0]


def test_walked_file_without_training_vocabulary_is_not_parsed_but_a_named_one_is(tmp_path):
    # no framework and no loss/DataLoader named: a folder's file that cannot hold a finding is skipped
    # after the text test (its syntax error is not ours to report); named on the command line it is read
    report = _check_files(tmp_path, {"util.py": b"import os\ndef f(:\n", "model.py": b"import torch\ndef g(:\n"})
    assert report.errors == () and report.findings == ()
    assert [s["path"] for s in report.summary["files"]] == [str(tmp_path / "model.py"), str(tmp_path / "util.py")]
    named = check_paths([tmp_path / "util.py"], Config(), RunOptions(probe=False))
    assert len(named.errors) == 1 and "syntax error" in named.errors[0]
    # the text test itself: a framework and a training word, both needed
    from preflight.inputs.pysource import might_hold_finding
    assert might_hold_finding(b"import torch\nl = nn.CrossEntropyLoss()")
    assert might_hold_finding(b"from lightning import LightningModule\nF.binary_cross_entropy(p, y)")
    assert not might_hold_finding(b"import torch\nx = torch.zeros(3)")
    assert not might_hold_finding(b"def cross_entropy(p, q): ...")
    assert not might_hold_finding(b"import torchvision_like_name\nDataLoader")


def test_pep263_latin1_source_is_decoded(tmp_path):
    src = ("# -*- coding: latin-1 -*-\nimport torch, torch.nn as nn\n"
           "name = 'caf\xe9'; l = nn.BCELoss()(torch.sigmoid(z), y)\n")
    report = _check_files(tmp_path, {"latin.py": src.encode("latin-1")})
    assert report.errors == ()
    assert [(f.code, f.location.line, f.location.col) for f in report.findings] == [("PF301", 3, 20)]


def test_bom_source_is_decoded(tmp_path):
    src = b"\xef\xbb\xbfimport torch\nl = torch.nn.BCELoss()(torch.sigmoid(z), y)\n"
    report = _check_files(tmp_path, {"bom.py": src})
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 2)]


def test_cli_exit_codes_for_python_files(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_bytes(b"def f(:\n")
    result = run_cli(["check", "--no-probe", str(bad)])
    assert result.code == 2
    assert result.stderr.strip() == (f"error: {bad}:1: syntax error: invalid syntax, as Python "
                                     f"{sys.version_info.major}.{sys.version_info.minor} parses it (the file may use "
                                     "syntax newer than this Python); fix it, check it with the Python it is "
                                     "written for, or exclude the file")
    good = tmp_path / "ok.py"
    good.write_text("import torch\nx = torch.zeros(3)\n")
    assert run_cli(["check", "--no-probe", str(good)]).code == 0


@pytest.mark.slow  # a 60,000-line file; its scaling is measured in bench/scaling.py
def test_huge_file_stays_linear(tmp_path):
    """200k lines of a training-script shape: read and checked in bounded time (not quadratic)."""
    import time

    body = "".join(f"def f{i}(m, x, y):\n    out = m(x)\n    return crit(out, y)\n" for i in range(20000))
    src = "import torch, torch.nn as nn\ncrit = nn.BCELoss()\n" + body + "l = crit(torch.sigmoid(z), y)\n"
    (tmp_path / "big.py").write_text(src)
    started = time.perf_counter()
    report = check_paths([tmp_path / "big.py"], Config(), RunOptions(probe=False))
    elapsed = time.perf_counter() - started
    assert [(f.code, f.location.line) for f in report.findings] == [("PF301", 60003)]
    assert elapsed < 60, elapsed


# --- never run, never import torch --------------------------------------------------------------

def test_checked_code_is_never_executed(tmp_path):
    marker = tmp_path / "executed.marker"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import torch, torch.nn as nn
        open({str(marker)!r}, "w").write("ran")
        __import__("os").system("touch {marker}")
        if __name__ == "__main__":
            open({str(marker)!r}, "w").write("ran")
        loss = nn.BCELoss()(torch.sigmoid(z), y)
    """))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "preflight", "check", "--no-probe", str(script)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "PF301" in out.stdout
    assert not marker.exists()


def test_static_check_does_not_import_torch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch, torch.nn as nn\nloss = nn.BCELoss()(torch.sigmoid(z), y)\n")
    code = textwrap.dedent(f"""
        import sys
        import preflight
        assert "torch" not in sys.modules, "import preflight imported torch"
        report = preflight.check({str(script)!r}, probe=False)
        assert [f.code for f in report.findings] == ["PF301"], report.findings
        assert "torch" not in sys.modules, "a static check imported torch"
        print("ok")
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_code_subject_rejects_nul_in_text():
    with pytest.raises(PreflightError, match="NUL"):
        code_subject("x = 1\x00", display="s.py")
