"""The rule catalog is executable documentation: every rule has a folder, every bad example
fires exactly its rule, every good example fires nothing, and the recorded output does not drift."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from preflight.checks import ALL_RULES
from preflight.checks.base import CODE_RE, NAME_RE
from preflight.config import Config
from preflight.engine import RunOptions, check_paths
from tests.conftest import ROOT, check_golden, run_cli

RULES_DIR = ROOT / "rules"
DATA_SUFFIXES = {".csv", ".tsv", ".parquet", ".npy", ".npz", ".py"}
FOLDERS = sorted(p for p in RULES_DIR.iterdir() if p.is_dir() and CODE_RE.match(p.name.split("-")[0]))


def examples(folder, prefix):
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and p.suffix in DATA_SUFFIXES)


def codes_found(path):
    report = check_paths([path], Config(), RunOptions(probe=False))
    assert not report.errors, report.errors
    return sorted({f.code for f in report.findings})


def test_every_rule_has_a_folder_and_every_folder_a_rule():
    expected = {f"{r.code}-{r.name}" for r in ALL_RULES}
    assert {p.name for p in FOLDERS} == expected


def test_rules_are_in_code_order_with_valid_names_and_documented_sections():
    codes = [r.code for r in ALL_RULES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    for r in ALL_RULES:
        assert CODE_RE.match(r.code) and NAME_RE.match(r.name), r
        doc = r.doc()
        for section in ("What it does", "Why is this bad?", "Example", "How to fix", "Options", "References"):
            assert f"## {section}" in doc, f"{r.code} lacks the section {section!r}"
        for opt in r.options:
            assert f"`{opt.name}`" in doc, f"{r.code} does not document its option {opt.name}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_folder_has_bad_and_good_examples(folder):
    assert examples(folder, "bad"), f"{folder.name} has no bad example"
    assert examples(folder, "good"), f"{folder.name} has no good example"


CASES = [(f, p) for f in FOLDERS for p in examples(f, "bad") + examples(f, "good")]


@pytest.mark.parametrize("folder,path", CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_bad_fires_exactly_its_code_and_good_fires_nothing(folder, path):
    code = folder.name.split("-")[0]
    if path.suffix == ".py" and not _reads_python():
        pytest.fail(".py examples exist but preflight cannot read .py files")
    found = codes_found(path)
    if path.name.startswith("bad"):
        assert found == [code], f"{path.relative_to(ROOT)} fired {found}, expected exactly [{code}]"
    else:
        assert found == [], f"{path.relative_to(ROOT)} should stay silent, fired {found}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_recorded_output_does_not_drift(folder):
    bad = [str(p.relative_to(ROOT)) for p in examples(folder, "bad")]
    args = ["check", "--no-probe", *bad]
    result = run_cli(args, cwd=ROOT)
    assert result.code == 1, result
    check_golden(folder / "expected.txt", result.transcript(args))


def test_catalog_data_regenerates_identically(tmp_path):
    """tools/make_catalog.py is the source of the data examples: rerunning it changes nothing."""
    data = {p: p.read_bytes() for f in FOLDERS for p in f.iterdir() if p.suffix == ".csv"}
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_catalog.py")], check=True, cwd=tmp_path)
    changed = [str(p.relative_to(ROOT)) for p, before in data.items() if p.read_bytes() != before]
    assert not changed, f"make_catalog.py no longer reproduces {changed}"


def _reads_python():
    from preflight.inputs import READERS

    return ".py" in READERS


def test_explain_prints_every_rule_from_its_docstring():
    for r in ALL_RULES:
        result = run_cli(["explain", r.code])
        assert result.code == 0
        assert result.stdout.startswith(f"{r.code} {r.name}")
        assert "## How to fix" in result.stdout
        assert re.search(r"## Why is this bad\?", result.stdout)
