"""examples/README.md is executed: every `$ ` command's output must match the recorded block.

Exact, except inside probe lines, where numbers may differ within 10% (another CPU's kernels) and
the sparklines are not compared."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README = ROOT / "examples" / "README.md"
BLOCK = re.compile(r"```console\n\$ (?P<cmd>[^\n]+)\n(?P<out>.*?)```", re.S)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def blocks():
    return [(m["cmd"], m["out"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def normalise_probe(line: str) -> tuple[str, list[float]]:
    line = line.rsplit("; as-is ", 1)[0]  # drop the sparklines
    return NUMBER.sub("#", line), [float(x) for x in NUMBER.findall(line)]


def test_readme_has_the_blocks():
    cmds = [c for c, _ in blocks()]
    assert len(cmds) == 8 and any("guard.py" in c for c in cmds)


@pytest.mark.slow
@pytest.mark.parametrize("cmd,expected", blocks(), ids=[c for c, _ in blocks()])
def test_example_output(cmd, expected, tmp_path):
    argv = shlex.split(cmd)
    argv = [sys.executable, "-m", "preflight", *argv[1:]] if argv[0] == "preflight" else [sys.executable, *argv[1:]]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got = (proc.stdout + proc.stderr).splitlines()
    want = expected.splitlines()
    assert len(got) == len(want), "\n".join(got)
    for g, w in zip(got, want):
        if w.lstrip().startswith("probe: "):
            (gs, gv), (ws, wv) = normalise_probe(g), normalise_probe(w)
            assert gs == ws, g
            assert gv == pytest.approx(wv, rel=0.1, abs=0.02), g
        else:
            assert g == w
    assert proc.returncode == (0 if "No problems found" in expected else 1)


def live_images_block() -> str:
    """The output the main README shows for ``python examples/live_images.py``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```text\n", text.index("`examples/live_images.py`, the digits")) + len("```text\n")
    return text[start:text.index("```", start)]


@pytest.mark.slow
def test_readme_live_check_output_is_the_real_output(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "live_images.py")], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got, want = (proc.stdout + proc.stderr).splitlines(), live_images_block().splitlines()
    assert len(got) == len(want) > 5, "\n".join(got)
    for g, w in zip(got, want):
        if w.lstrip().startswith("probe: "):
            (gs, gv), (ws, wv) = normalise_probe(g), normalise_probe(w)
            assert gs == ws, g
            assert gv == pytest.approx(wv, rel=0.1, abs=0.02), g
        else:
            assert g == w
