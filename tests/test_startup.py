"""The hook path stays light: `preflight check small.csv --no-probe` never imports torch, and a
static check of a .py file imports neither torch nor polars.

Timing is measured in bench/startup.py, not here; this asserts the property that makes it fast.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROGRAM = """
import sys
from preflight.cli import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "polars", "sklearn", "matplotlib", "pandas") if m in sys.modules)
print("\\n@@" + __import__("json").dumps({{"code": code, "heavy": heavy}}))
"""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "html"])
def test_no_probe_check_does_not_import_torch(fmt: str, tmp_path) -> None:
    args = ["check", "--no-probe", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"),
            "examples/heart_rate.csv"]
    proc = subprocess.run([sys.executable, "-c", PROGRAM.format(args=args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    result = json.loads(proc.stdout.rsplit("@@", 1)[1])
    assert result["code"] == 1, proc.stderr  # PF101 fires on the heart-rate example
    assert "torch" not in result["heavy"], result
    assert (tmp_path / f"out.{fmt}").stat().st_size > 0


TRAIN_PY = """import torch
from torch.utils.data import DataLoader
train_loader = DataLoader(train_ds, batch_size=32)
"""


def _run(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROGRAM.format(args=args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert "@@" in proc.stdout, proc.stderr
    return json.loads(proc.stdout.rsplit("@@", 1)[1])


def test_reading_python_sources_does_not_import_polars(tmp_path) -> None:
    """The READERS registry imports the CSV/Parquet/NumPy readers (polars, numpy) only when called."""
    script = tmp_path / "train.py"
    script.write_text(TRAIN_PY)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from preflight.inputs import READERS, expand, read_path\n"
        f"files = expand([{str(tmp_path)!r}])\n"
        "subject = read_path(files[0], None)\n"
        "assert '.py' in READERS and '.csv' in READERS and type(subject).__name__ == 'CodeSubject'\n"
        "print(sorted(m for m in ('torch', 'polars') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_static_check_of_a_python_file_imports_neither_torch_nor_polars(tmp_path) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_PY)
    result = _run(["check", "--no-probe", str(script)])
    assert result["code"] == 1  # PF203 fires: the training loader does not shuffle
    assert "torch" not in result["heavy"], result
    assert "polars" not in result["heavy"], result
