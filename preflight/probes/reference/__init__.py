"""Recorded probe evidence for findings in code (no user data): ``<CODE>.json`` per rule.

Each file is the probe's evidence on the rule's catalog bad example (``rules/<CODE>-<name>/bad.csv``,
also recorded there as ``evidence.json``), or for the PF3xx output kinds on ``reference.data``'s
sets, marked ``"data": "reference"``. ``python -m preflight.probes.reference`` regenerates them,
and a slow test checks that a fresh run matches within tolerance.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def file_name(code: str, family: str | None = None) -> str:
    """``<CODE>.json``, or ``output-<kind>.json`` for an output family (PF3xx rules share them)."""
    if family and family.startswith("output:"):
        return f"output-{family.partition(':')[2]}.json"
    return f"{code}.json"


def reference_evidence(code: str, family: str | None = None) -> dict[str, Any] | None:
    """The recorded evidence for ``code`` (or its output ``family``), or None when there is none."""
    try:
        text = resources.files(__name__).joinpath(file_name(code, family)).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    ev = json.loads(text)
    ev["data"] = "reference"
    ev["rule"] = code
    return ev
