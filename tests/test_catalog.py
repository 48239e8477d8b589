"""The rule catalog is executable documentation: every rule has a folder, every bad example fires
exactly the (line, code) pairs its recorded transcript shows, counts included (pylint's message
tests), every good example fires nothing, and the recorded output does not drift."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from preflight.checks import ALL_RULES
from preflight.checks.base import CODE_RE, NAME_RE
from preflight.config import Config
from preflight.engine import RunOptions, check_paths
from preflight.report.grouping import group_findings
from tests.conftest import ROOT, check_golden, run_cli

RULES_DIR = ROOT / "rules"
DATA_SUFFIXES = {".csv", ".tsv", ".parquet", ".npy", ".npz", ".py"}
FOLDERS = sorted(p for p in RULES_DIR.iterdir() if p.is_dir() and CODE_RE.match(p.name.split("-")[0]))


def examples(folder, prefix):
    """Static examples: files the CLI reads (``*_live.py`` build live objects and are run by their own test),
    project folders (``bad_project/``, ``good_project/``: several files read as one input) and folders of
    shards (``bad_shards*/``, ``good_shards*/``: read as one table, ``--engine local``)."""
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and (
        (p.suffix in DATA_SUFFIXES and not p.name.endswith("_live.py")) or is_project(p) or is_shards(p)))


def is_shards(p) -> bool:
    """A folder of shards: ``bad_shards*``/``good_shards*`` holding CSV or Parquet files only."""
    if not (p.is_dir() and p.name.startswith(("bad_shards", "good_shards"))):
        return False
    files = [f for f in p.rglob("*") if f.is_file()]
    assert len(files) >= 2 and all(f.suffix in (".csv", ".parquet") for f in files), f"{p}: shards are CSV/Parquet"
    return True


def shards_found(path) -> Counter:
    from preflight.integrations.engines import engine_report

    report = engine_report([str(path)], "local", None, Config(), RunOptions(probe=False))
    assert not report.errors, report.errors
    return Counter((f.location.line, f.code) for f in shown(report.findings))


def is_project(p) -> bool:
    """A project example: a folder named ``bad_project*``/``good_project*`` of Python files only (strict:
    anything else in it is a mistake in the catalog)."""
    if not (p.is_dir() and p.name.startswith(("bad_project", "good_project"))):
        return False
    files = [f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
    assert files and all(f.suffix == ".py" for f in files), f"{p}: a project example holds only .py files"
    return True


def live_examples(folder, prefix):
    """Runtime examples: ``bad_live.py`` / ``good_live.py`` whose ``build*()`` functions return the
    keyword arguments of ``preflight.check`` (a DataLoader, a model, a loss)."""
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith("_live.py"))


# A finding line of a recorded transcript: ``path:line:col: CODE name ...`` for code, ``path: CODE name ...``
# for data (no line); a file's summary line (``path: 600 rows x 2 columns; ...``) carries no code.
FINDING = re.compile(r"^(?P<path>\S+?)(?::(?P<line>\d+):\d+)?: (?P<code>PF\d{3})(?: \[\*\])? [a-z0-9-]+ ")
LIVE_HEADER = re.compile(r"^# (?P<path>\S+):(?P<builder>\w+)\(\)$")
FOUND = re.compile(r"^Found (\d+) problems? in ")


def recorded(folder) -> dict[str, Counter]:
    """(line, code) pairs with counts, per bad file, from the folder's recorded transcript ``expected.txt``
    (line None for a data file); the transcript's ``Found N problems`` line checks the parse."""
    text = (folder / "expected.txt").read_text(encoding="utf-8")
    stdout = text.split("--- stdout\n", 1)[1].split("--- stderr\n", 1)[0]
    pairs: dict[str, Counter] = {}
    for line in stdout.splitlines():
        if m := FINDING.match(line):
            pairs.setdefault(m["path"], Counter())[(int(m["line"]) if m["line"] else None, m["code"])] += 1
    total = [int(m[1]) for m in map(FOUND.match, stdout.splitlines()) if m]
    assert total == [sum(sum(c.values()) for c in pairs.values())], f"{folder.name}/expected.txt: parse drift"
    return pairs


def recorded_live(folder) -> dict[str, Counter]:
    """Codes with counts per ``path:builder`` from ``expected_live.txt`` (live findings have no line)."""
    pairs: dict[str, Counter] = {}
    where = None
    for line in (folder / "expected_live.txt").read_text(encoding="utf-8").splitlines():
        if m := LIVE_HEADER.match(line):
            where = f"{m['path']}:{m['builder']}"
            pairs[where] = Counter()
        elif m := re.match(r"^\S.*?: (PF\d{3}) [a-z0-9-]+ ", line):
            pairs[where][m[1]] += 1
    return pairs


def assert_verdict(where, bad, code, found: Counter, expected: Counter | None):
    """A bad example fires exactly its recorded findings, counts included, all of its rule's code;
    a good one fires nothing."""
    if bad:
        assert expected, f"{where} has no recorded findings (rerun with PREFLIGHT_UPDATE_GOLDEN=1?)"
        assert {k[-1] if isinstance(k, tuple) else k for k in expected} == {code}, (where, expected)
        assert found == expected, (f"{where} fired {sorted(found.items(), key=str)}, "
                                   f"expected {sorted(expected.items(), key=str)}")
    else:
        assert found == Counter(), f"{where} should stay silent, fired {sorted(found.items(), key=str)}"


def shown(findings):
    """The findings as the text output shows them: one per rule per file for data (its columns on one
    line), one per line for code (``preflight.report.grouping``)."""
    return [g.first for g in group_findings(findings)]


def pairs_found(path) -> Counter:
    report = check_paths([path], Config(), RunOptions(probe=False))
    assert not report.errors, report.errors
    return Counter((f.location.line, f.code) for f in shown(report.findings))


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
    assert examples(folder, "bad") or live_examples(folder, "bad"), f"{folder.name} has no bad example"
    assert examples(folder, "good") or live_examples(folder, "good"), f"{folder.name} has no good example"


CASES = [(f, p) for f in FOLDERS for p in examples(f, "bad") + examples(f, "good")]


@pytest.mark.parametrize("folder,path", CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_bad_fires_exactly_its_code_and_good_fires_nothing(folder, path):
    code = folder.name.split("-")[0]
    where, bad = str(path.relative_to(ROOT)), path.name.startswith("bad")
    if is_shards(path):  # one table: its findings name the folder
        assert_verdict(where, bad, code, shards_found(path), recorded(folder).get(where) if bad else None)
        return
    if path.is_dir():  # a project: its files' findings, keyed by file and line
        found = Counter((str(Path(f.location.path).relative_to(ROOT)), f.location.line, f.code)
                        for f in shown(check_paths([path], Config(), RunOptions(probe=False)).findings))
        expected = Counter({(p, *k): n for p, c in recorded(folder).items() if p.startswith(where + "/")
                            for k, n in c.items()})
        assert_verdict(where, bad, code, found, expected if bad else None)
        return
    assert_verdict(where, bad, code, pairs_found(path), recorded(folder).get(where) if bad else None)


@pytest.mark.parametrize("folder", [f for f in FOLDERS if examples(f, "bad")], ids=lambda p: p.name)
def test_recorded_output_does_not_drift(folder):
    bad = [str(p.relative_to(ROOT)) for p in examples(folder, "bad")]
    rule = next(r for r in ALL_RULES if folder.name == f"{r.code}-{r.name}")
    fail_on = ["--fail-on", "info"] if str(rule.severity) == "info" else []
    engine = ["--engine", "local"] if any(is_shards(p) for p in examples(folder, "bad")) else []
    args = ["check", "--no-probe", *engine, *fail_on, *bad]
    result = run_cli(args, cwd=ROOT)
    assert result.code == 1, result
    check_golden(folder / "expected.txt", result.transcript(args))


def _load(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"catalog_{path.parent.name}_{path.stem}".replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _builders(path):
    import ast as _ast

    tree = _ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, _ast.FunctionDef) and n.name.startswith("build")]


LIVE_CASES = [(f, p, name) for f in FOLDERS for p in live_examples(f, "bad") + live_examples(f, "good")
              for name in _builders(p)]


@pytest.mark.parametrize("folder,path,builder", LIVE_CASES,
                         ids=lambda v: getattr(v, "name", str(v)))
def test_live_bad_fires_exactly_its_code_and_live_good_fires_nothing(folder, path, builder):
    import preflight

    code = folder.name.split("-")[0]
    report = preflight.check(**getattr(_load(path), builder)(), probe=False)
    where, bad = f"{path.relative_to(ROOT)}:{builder}", path.name.startswith("bad")
    assert_verdict(where, bad, code, Counter(f.code for f in report.findings),
                   recorded_live(folder).get(where) if bad else None)


@pytest.mark.parametrize("folder", [f for f in FOLDERS if live_examples(f, "bad")], ids=lambda p: p.name)
def test_live_recorded_output_does_not_drift(folder):
    import preflight

    texts = []
    for path in live_examples(folder, "bad"):
        module = _load(path)
        for builder in _builders(path):
            report = preflight.check(**getattr(module, builder)(), probe=False)
            body = "\n".join(str(f) + "\n    fix: " + f.fix for f in report.findings)
            texts.append(f"# {path.relative_to(ROOT)}:{builder}()\n{body}\n")
    check_golden(folder / "expected_live.txt", "".join(texts))


@pytest.mark.slow  # runs tools/make_catalog.py in a subprocess
def test_catalog_data_regenerates_identically(tmp_path):
    """tools/make_catalog.py is the source of the data examples: rerunning it changes nothing."""
    data = {p: p.read_bytes() for f in FOLDERS for p in f.iterdir() if p.suffix == ".csv"}
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_catalog.py")], check=True, cwd=tmp_path)
    changed = [str(p.relative_to(ROOT)) for p, before in data.items() if p.read_bytes() != before]
    assert not changed, f"make_catalog.py no longer reproduces {changed}"


def test_explain_prints_every_rule_from_its_docstring():
    for r in ALL_RULES:
        result = run_cli(["explain", r.code])
        assert result.code == 0
        assert result.stdout.startswith(f"{r.code} {r.name}")
        assert "## How to fix" in result.stdout
        assert re.search(r"## Why is this bad\?", result.stdout)
