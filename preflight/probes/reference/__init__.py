"""Recorded probe evidence for findings in code (no user data): ``<CODE>.json`` per rule.

Each file is the probe's evidence on the rule's reference data, marked ``"data": "reference"``;
``python -m preflight.probes.reference`` regenerates them, and a slow test checks a fresh run
matches within tolerance.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def reference_evidence(code: str) -> dict[str, Any] | None:
    """The recorded evidence for ``code``, or None when the rule has none."""
    try:
        text = resources.files(__name__).joinpath(f"{code}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    ev = json.loads(text)
    ev["data"] = "reference"
    return ev
