"""``tests/hostile/README.md`` lists every hostile case the tests run, and nothing else.

Every hostile test module (``tests/test_hostile*.py``, and ``tests/test_security_and_limits.py``)
defines ``CASES: dict[str, str]`` (case id -> one line) and runs its tests over those ids: a test
parametrized over them, or (for a module of one test a case) a test named ``test_<id>`` with ``-``
written ``_``. The README has one table per module, under ``## tests/<module>.py``, with the columns
``| case | cause | input | expected |``. This test compares the two, both ways.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "tests" / "hostile" / "README.md"
HEADER = "| case | cause | input | expected |"
MODULES = sorted({p.stem for p in (ROOT / "tests").glob("test_hostile*.py")} - {Path(__file__).stem}
                 | {"test_security_and_limits"})
ROW = re.compile(r"^\| `([^`]+)` \|(.*)\|\s*$")


def readme_tables(text: str) -> dict[str, list[str]]:
    """``## tests/<module>.py`` -> the case ids of the table under it, in order."""
    tables: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = re.match(r"^## tests/(\w+)\.py\s*$", line)
        if heading:
            current = heading.group(1)
            assert current not in tables, f"two sections for tests/{current}.py"
            tables[current] = []
            continue
        if line.startswith("## "):
            current = None
        row = ROW.match(line)
        if row and current is not None:
            cells = [c.strip() for c in row.group(2).split(" | ")]
            assert len(cells) == 3 and all(cells), f"a row needs a cause, an input and what is expected: {line}"
            tables[current].append(row.group(1))
    return tables


def ids_run(module) -> set[str]:
    """The case ids the module's tests run: the values of parametrizations over CASES, and the ids
    that name a test function."""
    cases = module.CASES
    out: set[str] = set()
    for name, fn in vars(module).items():
        if not name.startswith("test_") or not callable(fn):
            continue
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize" and len(mark.args) > 1:
                values = [v.values[0] if hasattr(v, "values") else v for v in mark.args[1]]
                out.update(v for v in values if isinstance(v, str) and v in cases)
        key = name[len("test_"):].replace("_", "-")
        if key in cases:
            out.add(key)
    return out


@pytest.fixture(scope="module")
def tables():
    return readme_tables(README.read_text(encoding="utf-8"))


def test_the_readme_has_a_section_for_each_module_and_no_other(tables):
    text = README.read_text(encoding="utf-8")
    assert text.count(HEADER) == len(tables), "each section holds one table with the four columns"
    assert set(MODULES) <= set(tables), f"sections missing for {sorted(set(MODULES) - set(tables))}"
    assert set(tables) <= set(MODULES), f"sections for no module: {sorted(set(tables) - set(MODULES))}"


@pytest.mark.parametrize("name", MODULES)
def test_the_readme_table_matches_the_cases_the_tests_run(name, tables):
    module = importlib.import_module(f"tests.{name}")
    cases = module.CASES
    assert isinstance(cases, dict) and cases and all(isinstance(v, str) and v for v in cases.values())
    listed = tables.get(name, [])
    assert len(listed) == len(set(listed)), f"a case listed twice under tests/{name}.py"
    assert sorted(set(cases) - set(listed)) == [], f"cases of tests/{name}.py missing from {README.name}"
    assert sorted(set(listed) - set(cases)) == [], f"{README.name} lists cases tests/{name}.py does not have"
    assert sorted(set(cases) - ids_run(module)) == [], f"cases of tests/{name}.py that no test runs"


def test_the_parser_sees_rows_and_sections():
    """The comparison fails on a README that drops a case or adds one (the parser is not vacuous)."""
    text = (f"## tests/test_a.py\n\n{HEADER}\n|---|---|---|---|\n| `x` | 1 | `a.csv` | exit 2 |\n\n"
            "## Other\n| `y` | 1 | b | c |\n")
    assert readme_tables(text) == {"test_a": ["x"]}
    with pytest.raises(AssertionError):
        readme_tables(text.replace("| `a.csv` |", "| |"))
