"""Security and limits across the input kinds: the static checker never runs the code it reads,
pickled tensors never run, HTML escapes what came from the data, loaders and probes stay bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import preflight
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]

# case id -> why (tests/hostile/README.md lists them); each case is the test named test_<id, '-' as '_'>
CASES: dict[str, str] = {
    "static-checker-never-imports-or-executes-the-code-it-reads":
        "code at module level, in defaults, class bodies, decorators and __main__ never runs; nothing is written",
    "no-valid-python-crashes-the-static-checker": "generated valid Python (hypothesis) never raises or errors",
    "an-endless-loader-is-read-for-a-bounded-number-of-batches": "an endless IterableDataset is read, and bounded",
    "pt-inputs-are-refused-as-an-unsupported-type": "a .pt file is refused by its suffix, never unpickled",
    "html-output-escapes-column-names": "a column named <script>... is escaped in the HTML report",
    "the-probe-keeps-to-its-budget": "the probe's training time stays within its budget per finding",
}


def _cli(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PREFLIGHT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "preflight", "check", "--no-probe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# --- security: the static checker never runs what it reads -----------------------------------------

EVIL = '''\
import pathlib
pathlib.Path({marker!r}).write_text("module top level ran")
import torch
import torch.nn as nn


def default(p=pathlib.Path({marker!r}).write_text("default argument ran")):
    return p


class Model(nn.Module):
    pathlib.Path({marker!r}).write_text("class body ran")

    def forward(self, x):
        return torch.sigmoid(x)


@pathlib.Path({marker!r}).write_text
def decorated():
    pass


if __name__ == "__main__":
    pathlib.Path({marker!r}).write_text("main ran")
'''


def test_static_checker_never_imports_or_executes_the_code_it_reads(tmp_path):
    marker = tmp_path / "EXECUTED"
    src = tmp_path / "src"
    src.mkdir()
    (src / "evil.py").write_text(EVIL.format(marker=str(marker)))
    (src / "train.py").write_text("import evil\nfrom evil import Model\nModel()\n")
    (src / "__init__.py").write_text(EVIL.format(marker=str(marker)))
    before = sorted(p.name for p in src.iterdir())
    for target, files in (("evil.py", "1 file"), ("train.py", "1 file"), (".", "3 files")):
        r = _cli(target, cwd=src)  # read (and counted), nothing to report, no error
        clean = f"No problems found in {files} (0 errors, 0 warnings, 0 info).\n"
        assert (r.returncode, r.stdout, r.stderr) == (0, clean, ""), target
    assert not marker.exists(), f"the checked code ran: {marker.read_text()}"
    assert sorted(p.name for p in src.iterdir()) == before, "no __pycache__ or other file beside the inputs"


def _program_parts():
    leaf = st.sampled_from(["x", "1", "0.5", "None", "'s'", "torch.zeros(3)", "nn.Linear(3, 1)", "F.relu(x)",
                            "torch.sigmoid(x)", "nn.BCELoss()", "DataLoader(ds, shuffle=False)", "(lambda: x)"])
    expr = st.recursive(leaf, lambda e: st.one_of(
        st.tuples(e, st.sampled_from(["+", "*", "@", " if x else "]), e).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from(["f", "torch.cat", "nn.Sequential", "loss", "model"]), st.lists(e, max_size=3))
        .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        e.map(lambda s: f"[{s} for x in range(2)]")), max_leaves=12)
    stmt = st.one_of(
        expr.map(lambda e: f"x = {e}"),
        expr.map(lambda e: f"loss = nn.BCELoss()({e}, y)"),
        expr.map(lambda e: f"def f(x=None):\n    return {e}"),
        expr.map(lambda e: f"class M(nn.Module):\n    def forward(self, x):\n        return {e}"),
        expr.map(lambda e: f"for x in range(3):\n    y = {e}"),
        expr.map(lambda e: f"if x:\n    model = {e}\nelse:\n    model = None"),
        st.just("import torch.nn.functional as F"), st.just("from torch.nn import *"), st.just("x: int = 0"),
    )
    header = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
              "from torch.utils.data import DataLoader\n")
    return st.lists(stmt, max_size=8).map(lambda body: header + "\n".join(body) + "\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_program_parts())
def test_no_valid_python_crashes_the_static_checker(source):
    compile(source, "<generated>", "exec")  # the strategy makes valid Python only
    import tempfile

    from preflight.config import Config
    from preflight.engine import RunOptions, check_paths

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.py"
        path.write_text(source)
        report = check_paths([path], Config(), RunOptions(probe=False))
    assert report.errors == (), report.errors
    json.loads(report.to_json())


# --- limits: a live loader is read for a bounded number of batches ---------------------------------

def test_an_endless_loader_is_read_for_a_bounded_number_of_batches():
    import torch

    class Endless(torch.utils.data.IterableDataset):
        served = 0

        def __iter__(self):
            while True:
                Endless.served += 1
                if Endless.served > 100_000:
                    raise RuntimeError("preflight read more than 100,000 samples of an endless loader")
                yield torch.randn(4), torch.tensor(float(Endless.served % 2))

    report = preflight.check(torch.utils.data.DataLoader(Endless(), batch_size=16), probe=False, config={})
    assert 0 < Endless.served <= 100_000  # read, and bounded (the RuntimeError above fails it otherwise)
    assert report.errors == ()


# --- security: .pt files are refused, never unpickled ----------------------------------------------

def test_pt_inputs_are_refused_as_an_unsupported_type(tmp_path):
    """preflight reads no .pt files: torch.load unpickles, so a .pt is refused by its suffix with one
    line naming the readable types. (Were .pt support added, it must load with weights_only=True, and
    this test is to become one that a pickled payload never runs.)"""
    import torch

    torch.save({"X": torch.zeros(4, 2), "y": torch.zeros(4)}, tmp_path / "data.pt")
    r = run_cli(["check", "--no-probe", "data.pt"], cwd=tmp_path)
    assert (r.code, r.stdout) == (2, "")
    assert r.stderr == ("error: data.pt: is not a file type preflight reads; supported: "
                        ".csv, .ipynb, .npy, .npz, .parquet, .pq, .py, .pyw, .tsv, "
                        ".csv.gz, .csv.bz2, .csv.zst, .tsv.gz, .tsv.bz2, .tsv.zst\n")


# --- security: HTML output escapes what came from the data --------------------------------------------

def test_html_output_escapes_column_names(tmp_path):
    name = '<script>alert("x")</script>&<b>'
    rows = "".join(f"{90 + i % 20},{i % 2}\n" for i in range(200))
    (tmp_path / "data.csv").write_text(f'"{name.replace(chr(34), chr(34) * 2)}",label\n' + rows)
    r = _cli("--format", "html", "data.csv", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "PF101" in r.stdout
    assert "<script>alert" not in r.stdout and "<b>" not in r.stdout
    assert "&lt;script&gt;" in r.stdout


# --- limits: the probe keeps to its budget ---------------------------------------------------------------

def test_the_probe_keeps_to_its_budget(tmp_path, monkeypatch):
    data = tmp_path / "heart_rate.csv"
    data.write_bytes((ROOT / "examples" / "heart_rate.csv").read_bytes())
    monkeypatch.setenv("PREFLIGHT_CACHE_DIR", str(tmp_path / "cache"))  # a cached result would time nothing
    budget = 0.5
    config = {"probe": {"budget": budget}}
    started = time.perf_counter()
    report = preflight.check(str(data), probe=True, config=config)
    elapsed = time.perf_counter() - started
    probed = [f for f in report.findings if f.probe]
    assert probed, "the heart-rate finding should carry probe evidence"
    # budget per finding, plus torch's import and start-up: a generous, but finite, bound
    assert elapsed < budget * len(probed) + 15, f"{elapsed:.1f} s for {len(probed)} probed finding(s)"
