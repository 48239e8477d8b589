"""``preflight check --fix`` / ``--diff``: every code rule's catalog examples, the shipped examples,
safe and unsafe fixes, and what writing keeps (mode, line endings, bytes outside the edits)."""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest

from preflight.config import Config
from preflight.fixing import run as fixrun
from preflight.fixing.run import fix_file
from tests.conftest import ROOT, UPDATE, run_cli

RULES = ROOT / "rules"
CODE_FOLDERS = sorted(p for p in RULES.iterdir() if p.is_dir() and p.name[:3] in ("PF2", "PF3", "PF5")
                      and (p / "bad.py").exists())
FIXABLE = {"PF203", "PF301", "PF302", "PF303", "PF304", "PF305"}


def _copy(src: Path, tmp_path: Path) -> Path:
    """A catalog file copied into a fresh folder (fixing never writes into the repository)."""
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    return dst


@pytest.mark.parametrize("folder", CODE_FOLDERS, ids=lambda p: p.name[:5])
def test_fix_of_bad_py_is_fixed_py(folder, tmp_path):
    """``--fix`` on ``bad.py`` gives ``fixed.py`` exactly; a rule with no fix leaves ``bad.py`` as it is
    (and its folder has no ``fixed.py``)."""
    path = _copy(folder / "bad.py", tmp_path)
    before = path.read_text()
    result = run_cli(["check", "--fix", "--no-probe", "--exit-zero", str(path)])
    assert result.code == 0, result.stderr
    after = path.read_text()
    expected = folder / "fixed.py"
    if UPDATE and after != before:
        expected.write_text(after)
    if folder.name[:5] in FIXABLE:
        assert expected.read_text() == after
        assert after != before
        assert folder.name[:5] not in result.stdout  # the finding is gone
    else:
        assert not expected.exists() and after == before


@pytest.mark.parametrize("folder", CODE_FOLDERS, ids=lambda p: p.name[:5])
def test_diff_prints_the_same_fix_and_writes_nothing(folder, tmp_path):
    path = _copy(folder / "bad.py", tmp_path)
    before = path.read_bytes()
    result = run_cli(["check", "--diff", str(path)])
    assert path.read_bytes() == before
    if folder.name[:5] in FIXABLE:
        fixed = (folder / "fixed.py").read_text().splitlines(keepends=True)
        want = difflib.unified_diff(before.decode().splitlines(keepends=True), fixed, f"a/{path}", f"b/{path}")
        assert result.code == 1 and result.stdout == "".join(want)
        assert "Would fix 1 problem in 1 file." in result.stderr
    else:
        assert result.code == 0 and result.stdout == ""


@pytest.mark.parametrize("path", sorted(p for f in CODE_FOLDERS for p in f.glob("good*.py")),
                         ids=lambda p: f"{p.parent.name[:5]}/{p.name}")
def test_silent_examples_are_not_changed(path, tmp_path):
    copy = _copy(path, tmp_path)
    for flags in ([], ["--unsafe-fixes"]):
        result = run_cli(["check", "--diff", *flags, str(copy)])
        assert result.code == 0 and result.stdout == "", result.stdout


@pytest.mark.parametrize("path", sorted(p for f in CODE_FOLDERS for p in f.glob("bad*.py")
                                        if not p.name.endswith("_live.py")),
                         ids=lambda p: f"{p.parent.name[:5]}/{p.name}")
def test_every_fix_checks_out(path, tmp_path):
    """On every fire example, with the unsafe fixes too: a fix is applied only when its re-check passed
    (the file parses, the fixed findings are gone, none appeared) and fixing again changes nothing."""
    copy = _copy(path, tmp_path)
    result = fix_file(copy, Config(), unsafe=True)
    assert result.failure == ""
    if result.changed:
        if _compiles(result.before):  # a cell script with %magic lines never compiled; preflight reads those as pass
            compile(result.after, str(copy), "exec")
        copy.write_text(result.after)
        again = fix_file(copy, Config(), unsafe=True)
        assert again.failure == "" and not again.changed


def _compiles(text: str) -> bool:
    try:
        compile(text, "<fixed>", "exec")
    except SyntaxError:
        return False
    return True


def test_fixed_examples_fire_nothing_of_their_rule():
    for folder in CODE_FOLDERS:
        if (folder / "fixed.py").exists():
            out = run_cli(["check", "--no-probe", str(folder / "fixed.py")])
            assert folder.name[:5] not in out.stdout, out.stdout


# --- safe and unsafe ---------------------------------------------------------------------------

MODEL_READ_TWICE = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
criterion = nn.BCELoss()


def step(x, y):
    loss = criterion(model(x).squeeze(1), y)
    loss.backward()


def predict(x):
    return model(x) > 0.5
"""


def test_model_read_for_predictions_is_unsafe_and_left_alone(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(MODEL_READ_TWICE)
    out = run_cli(["check", "--no-probe", str(path)])
    assert "PF301 sigmoid" in out.stdout and "[*]" not in out.stdout.splitlines()[0]
    assert "1 hidden fix can be enabled with `--unsafe-fixes`" in out.stdout
    fixed = run_cli(["check", "--fix", "--no-probe", str(path)])
    assert path.read_text() == MODEL_READ_TWICE and fixed.code == 1
    assert "Fixed 0 problems in 0 files (1 more with --unsafe-fixes)." in fixed.stderr
    js = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(path)]).stdout)
    autofix = js["findings"][0]["autofix"]
    assert autofix["available"] is True and autofix["safe"] is False
    assert autofix["why_unsafe"] == "`model(x) > 0.5` at line 14 reads it (the output of the model's call at line 14)"
    unsafe = run_cli(["check", "--fix", "--unsafe-fixes", "--no-probe", str(path)])  # applied: predict() sees logits
    assert unsafe.code == 0, unsafe.stdout
    text = path.read_text()
    assert "nn.Sequential(nn.Linear(4, 1))" in text and "nn.BCEWithLogitsLoss()" in text


PROBS_READ_TWICE = """\
import torch
import torch.nn as nn

net = nn.Linear(4, 1)
criterion = nn.BCELoss()


def step(x, y):
    logits = net(x).squeeze(1)
    out = torch.sigmoid(logits)
    loss = criterion(out, y)
    loss.backward()
    predicted = out > 0.5
    return predicted
"""


def test_probabilities_read_elsewhere_are_kept_for_their_readers(tmp_path):
    """``out`` is also read for ``predicted = out > 0.5``: the safe fix passes ``logits`` to the fused
    loss and leaves ``out`` (the probabilities) for the prediction, so inference is unchanged."""
    path = tmp_path / "train.py"
    path.write_text(PROBS_READ_TWICE)
    result = run_cli(["check", "--fix", "--no-probe", str(path)])
    assert result.code == 0, result.stdout + result.stderr
    assert path.read_text() == PROBS_READ_TWICE.replace("criterion = nn.BCELoss()",
                                                        "criterion = nn.BCEWithLogitsLoss()").replace(
        "loss = criterion(out, y)", "loss = criterion(logits, y)")


def test_the_fixed_training_computes_the_same_objective(tmp_path):
    """Run both versions of PROBS_READ_TWICE: the loss is the same number (the fused form of it) and
    the predictions are identical."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "train.py"
    path.write_text(PROBS_READ_TWICE)
    run_cli(["check", "--fix", "--no-probe", str(path)])
    values = []
    for src in (PROBS_READ_TWICE, path.read_text()):
        torch.manual_seed(0)
        ns: dict = {}
        exec(compile(src.replace("    loss.backward()\n", "    loss.backward()\n    losses.append(loss.item())\n"),
                     "train.py", "exec"), ns)
        ns["losses"] = []
        x, y = torch.randn(16, 4) * 3, (torch.rand(16) > 0.5).float()
        values.append((ns["step"](x, y).tolist(), ns["losses"][0]))
    assert values[0][0] == values[1][0]
    assert values[0][1] == pytest.approx(values[1][1], rel=1e-5)


# --- writing -------------------------------------------------------------------------------------

CRLF = ("import torch\r\nimport torch.nn as nn  # a comment  \r\n\r\nm = nn.Sequential(nn.Linear(2, 1),\r\n"
        "                  nn.Sigmoid())\r\nc = nn.BCELoss()\r\nloss = c(m(torch.randn(3, 2)).squeeze(1), "
        "torch.ones(3))\r\nloss.backward()\r\n")


def test_fix_keeps_mode_line_endings_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "crlf.py"
    path.write_bytes(CRLF.encode())
    os.chmod(path, 0o750)
    assert run_cli(["check", "--fix", "--no-probe", str(path)]).code == 0
    data = path.read_bytes()
    want = CRLF.replace(",\r\n                  nn.Sigmoid())", ")").replace("BCELoss", "BCEWithLogitsLoss")
    assert data == want.encode()
    assert oct(path.stat().st_mode & 0o777) == oct(0o750)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crlf.py"]
    # idempotent: a second run changes nothing and finds nothing to fix
    again = run_cli(["check", "--diff", str(path)])
    assert again.code == 0 and again.stdout == "" and path.read_bytes() == data


@pytest.mark.parametrize(("edited", "reason"), [
    ("\ndef (:\n", "the fixed text would not be read back"),  # an edit that broke the file
    ("\n# edited\n", "the fix would leave or add PF301; nothing was changed"),  # one that fixed nothing
])
def test_a_fix_that_fails_its_check_leaves_the_file_untouched(tmp_path, monkeypatch, edited, reason):
    """Were the edits wrong, the re-read catches it and the bytes on disk stay as they were."""
    path = tmp_path / "a.py"
    shutil.copyfile(RULES / "PF301-sigmoid-before-bce-loss" / "bad.py", path)
    before = path.read_bytes()
    monkeypatch.setattr(fixrun, "apply_edits", lambda text, edits: text + edited)
    result = run_cli(["check", "--fix", "--no-probe", str(path)])
    assert path.read_bytes() == before and result.code == 1
    assert f"warning: {path}: not fixed: {reason}" in result.stderr


def test_fix_never_touches_data_files(tmp_path):
    csv = _copy(ROOT / "examples" / "heart_rate.csv", tmp_path)
    before = csv.read_bytes()
    result = run_cli(["check", "--fix", "--no-probe", str(tmp_path)])
    assert csv.read_bytes() == before and "PF101" in result.stdout and result.code == 1


def test_notebook_cells_are_fixed_in_place(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# A GAN step\n"]},
                    {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": ["import torch\n", "import torch.nn as nn\n", "%matplotlib inline\n"]},
                    {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": ["model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n",
                                "crit = nn.BCELoss()\n", "loss = crit(model(torch.randn(2, 4)), torch.ones(2, 1))\n",
                                "loss.backward()"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "gan.ipynb"
    path.write_text(json.dumps(nb, indent=1) + "\n")
    result = run_cli(["check", "--fix", "--no-probe", str(path)])
    assert result.code == 0, result.stdout + result.stderr
    fixed = json.loads(path.read_text())
    assert fixed["cells"][1] == nb["cells"][1] and fixed["cells"][0] == nb["cells"][0]
    assert fixed["cells"][2]["source"] == [
        "model = nn.Sequential(nn.Linear(4, 1))\n", "crit = nn.BCEWithLogitsLoss()\n",
        "loss = crit(model(torch.randn(2, 4)), torch.ones(2, 1))\n", "loss.backward()"]


def test_sarif_carries_the_fix_as_replacements(tmp_path):
    path = _copy(RULES / "PF203-unshuffled-training-loader" / "bad.py", tmp_path)
    sarif = json.loads(run_cli(["check", "--no-probe", "--format", "sarif", str(path)]).stdout)
    result = sarif["runs"][0]["results"][0]
    (change,) = result["fixes"][0]["artifactChanges"]
    (rep,) = change["replacements"]
    line = path.read_text().splitlines()[rep["deletedRegion"]["startLine"] - 1]
    col = rep["deletedRegion"]["startColumn"] - 1
    fixed = (RULES / "PF203-unshuffled-training-loader" / "fixed.py").read_text().splitlines()
    assert line[:col] + rep["insertedContent"]["text"] + line[col:] == fixed[rep["deletedRegion"]["startLine"] - 1]


# --- the shipped examples, fixed, train ----------------------------------------------------------

def _fixed_module(name: str, tmp_path: Path, unsafe: bool = False):
    """The example as shipped and as ``--fix`` leaves it, each loaded as a module (our own example code)."""
    import importlib.util

    copy = _copy(ROOT / "examples" / name, tmp_path)
    args = ["check", "--fix", "--no-probe", "--exit-zero", *(["--unsafe-fixes"] if unsafe else []), str(copy)]
    assert run_cli(args).code == 0
    assert copy.read_text() != (ROOT / "examples" / name).read_text()
    mods = []
    for label, path in (("as_is", ROOT / "examples" / name), ("fixed", copy)):
        spec = importlib.util.spec_from_file_location(f"_{label}_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods


@pytest.mark.parametrize("name", ["gan_discriminator.py", "softmax_classifier.py", "unshuffled_loader.py", "vae.py"])
def test_every_shipped_example_gets_its_fix(name, tmp_path):
    """The safe fixes reach the GAN discriminator, the softmax classifier and the unshuffled loader; the
    VAE's decoder output is also returned by ``forward`` (read by a caller), so its fix is unsafe and
    needs --unsafe-fixes."""
    copy = _copy(ROOT / "examples" / name, tmp_path)
    safe = run_cli(["check", "--diff", str(copy)])
    if name == "vae.py":
        assert safe.code == 0 and "(1 more with --unsafe-fixes)" in safe.stderr
        assert run_cli(["check", "--diff", "--unsafe-fixes", str(copy)]).code == 1
    else:
        assert safe.code == 1 and safe.stdout
    assert run_cli(["check", "--fix", "--unsafe-fixes", "--no-probe", str(copy)]).code == 0


def test_fixed_gan_discriminator_trains_at_least_as_well(tmp_path):
    torch = pytest.importorskip("torch")
    losses = []
    for mod in _fixed_module("gan_discriminator.py", tmp_path):
        torch.manual_seed(0)
        mod.netD = mod.Discriminator()  # the module's own, from the same seed
        mod.optimizerD = torch.optim.Adam(mod.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        g = torch.Generator().manual_seed(1)
        real, fake = torch.randn(8, 3, 16, 16, generator=g) + 1.0, torch.randn(8, 3, 16, 16, generator=g) - 1.0
        for _ in range(20):
            loss = mod.discriminator_step(real, fake).item()
        losses.append(loss)
    as_is, fixed = losses
    assert torch.isfinite(torch.tensor(fixed))
    assert fixed <= as_is * (1 + 1e-4) + 1e-6, (as_is, fixed)


def test_fixed_softmax_classifier_trains_at_least_as_well(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    X = torch.randn(600, 20, generator=g)
    y = X[:, :3].argmax(1)
    losses = []
    for mod in _fixed_module("softmax_classifier.py", tmp_path):
        torch.manual_seed(0)
        model = mod.SimpleNN(20, 64, 3)
        order = torch.Generator().manual_seed(0)
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=order)
        mod.train(model, loader, epochs=3)
        with torch.no_grad():  # the training objective as each version computes it: CrossEntropyLoss of the output
            losses.append(float(torch.nn.CrossEntropyLoss()(model(X), y)))
    as_is, fixed = losses
    assert torch.isfinite(torch.tensor(fixed)) and fixed <= as_is, (as_is, fixed)


def test_a_model_the_file_saves_makes_its_fix_unsafe(tmp_path):
    """``torch.save(model, ...)`` hands the model to code this file does not show (an inference script
    that loads it would get logits), so dropping its sigmoid is not safe."""
    src = (RULES / "PF301-sigmoid-before-bce-loss" / "bad.py").read_text() + '\n\ntorch.save(model, "model.pt")\n'
    path = tmp_path / "train.py"
    path.write_text(src)
    js = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(path)]).stdout)
    autofix = js["findings"][0]["autofix"]
    assert autofix["safe"] is False
    assert autofix["why_unsafe"] == "`torch.save(...)` at line 17 saves a model that other code may read"
    assert run_cli(["check", "--diff", str(path)]).code == 0 and path.read_text() == src


UNSAFE_CASES = sorted((ROOT / "tests" / "fix_cases").glob("*.py"))


@pytest.mark.parametrize("path", UNSAFE_CASES, ids=lambda p: p.stem)
def test_other_readers_make_the_fix_unsafe(path, tmp_path):
    """A review's cases where something besides the loss reads what the fix changes: a module applied
    twice, an in-place sigmoid_, a loader also iterated for an accuracy, the model handed to an imported
    function or a class, an alias, an index, ``self.forward`` in predict, ``:=``, a read on the next loop
    iteration, in a function defined earlier, through ``global``. Each is reported unsafe and left alone."""
    copy = _copy(path, tmp_path)
    before = copy.read_bytes()
    result = run_cli(["check", "--diff", str(copy)])
    assert result.code == 0 and result.stdout == "", result.stdout
    assert "Would fix 0 problems in 0 files (1 more with --unsafe-fixes)." in result.stderr
    assert run_cli(["check", "--fix", "--no-probe", "--exit-zero", str(copy)]).code == 0
    assert copy.read_bytes() == before


def test_a_symbolic_link_is_not_replaced_by_a_file(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    shutil.copyfile(RULES / "PF301-sigmoid-before-bce-loss" / "bad.py", real / "train.py")
    (tmp_path / "link.py").symlink_to("real/train.py")
    result = run_cli(["check", "--fix", "--no-probe", str(tmp_path / "link.py")])
    assert (tmp_path / "link.py").is_symlink()
    assert (real / "train.py").read_text() == (RULES / "PF301-sigmoid-before-bce-loss" / "bad.py").read_text()
    assert "not fixed: is a symbolic link or has other hard links" in result.stderr


def test_an_element_on_its_own_line_goes_with_its_line_and_the_comments_stay(tmp_path):
    src = ("import torch\nimport torch.nn as nn\n\nmodel = nn.Sequential(\n    nn.Linear(4, 1),  # head\n"
           "    nn.Sigmoid(),  # probabilities\n)\ncrit = nn.BCELoss()\nloss = crit(model(torch.randn(8, 4)), "
           "torch.rand(8, 1))\nloss.backward()\n")
    path = tmp_path / "t.py"
    path.write_text(src)
    assert run_cli(["check", "--fix", "--no-probe", str(path)]).code == 0
    want = src.replace("    nn.Sigmoid(),  # probabilities\n", "").replace("BCELoss", "BCEWithLogitsLoss")
    assert path.read_text() == want
