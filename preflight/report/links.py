"""Where a rule's documentation lives online: the one place the catalog's base URL is spelled."""

from __future__ import annotations

HOME_URL = "https://github.com/preflight-dev/preflight"
# One folder per rule in the catalog: rules/PF201-label-sorted-rows/
RULES_URL = HOME_URL + "/tree/main/rules/"


def rule_url(code: str, name: str) -> str:
    """The rule's catalog page, e.g. ``.../rules/PF201-label-sorted-rows``."""
    return f"{RULES_URL}{code}-{name}"
