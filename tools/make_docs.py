"""Rewrite the README's rules table from the registry (``preflight.checks.ALL_RULES``).

Deterministic; ``tests/test_readme_rules.py`` fails when the table and the registry differ.

    python tools/make_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.checks import ALL_RULES  # noqa: E402

HEADER = "| code | name | severity | finds |"


def rules_table() -> list[str]:
    return [HEADER, "|---|---|---|---|"] + [f"| {r.code} | {r.name} | {r.severity} | {r.summary} |" for r in ALL_RULES]


def rewrite(text: str) -> str:
    lines = text.splitlines()
    start = lines.index(HEADER, lines.index("## Rules"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:start] + rules_table() + lines[end:]) + "\n"


def main() -> None:
    readme = ROOT / "README.md"
    readme.write_text(rewrite(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
