"""The README's rules table is the registry: one row per rule, in order, with its code, name,
severity and summary (pre-commit-hooks' tests/readme_test.py idea)."""

from __future__ import annotations

import re

from preflight.checks import ALL_RULES
from tests.conftest import ROOT

ROW = re.compile(r"^\| (PF\d{3}) \| ([a-z0-9-]+) \| (\w+) \| (.+?) \|$")


def readme_rules_table() -> list[tuple[str, str, str, str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Rules")
    header = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    assert lines[header] == "| code | name | severity | finds |", lines[header]
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        m = ROW.match(line)
        assert m, f"README rules table: unparsable row {line!r}"
        rows.append(m.groups())
    return rows


def test_readme_rules_table_matches_the_registry():
    expected = [(r.code, r.name, str(r.severity), r.summary) for r in ALL_RULES]
    assert readme_rules_table() == expected


def test_the_table_parser_reads_every_row():
    """Guards the test above against a parser that stops early: the table has as many rows as codes
    mentioned in table rows anywhere in the README's Rules section."""
    rows = readme_rules_table()
    assert len(rows) == len(ALL_RULES) > 10
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(re.findall(r"^\| PF\d{3} \|", text, flags=re.M)) == len(rows)
