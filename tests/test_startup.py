"""The hook path stays light: `preflight check small.csv --no-probe` never imports torch.

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
heavy = sorted(m for m in ("torch", "sklearn", "matplotlib", "pandas") if m in sys.modules)
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
