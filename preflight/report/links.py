"""Where things are: a rule's catalog page online (the one place its base URL is spelled), and the
line a finding points at in a file."""

from __future__ import annotations

from pathlib import Path

from preflight.findings import Finding

# Files a viewer shows as text lines; a data finding in one of them points at line 1, the header
# row that names the column.
TEXT_SUFFIXES = {".csv", ".tsv", ".py", ".txt"}

HOME_URL = "https://github.com/preflight-dev/preflight"
# One folder per rule in the catalog: rules/PF201-label-sorted-rows/
RULES_URL = HOME_URL + "/tree/main/rules/"


def rule_url(code: str, name: str) -> str:
    """The rule's catalog page, e.g. ``.../rules/PF201-label-sorted-rows``."""
    return f"{RULES_URL}{code}-{name}"


def finding_line(f: Finding) -> int | None:
    """The 1-based line a finding points at: its own, else line 1 (the header) of a text data file."""
    loc = f.location
    if loc.line is not None and loc.line >= 1:
        return int(loc.line)
    if loc.path and Path(loc.path).suffix.lower() in TEXT_SUFFIXES:
        return 1
    return None
