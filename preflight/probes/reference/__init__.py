"""Recorded probe evidence for findings in code (no user data): ``<CODE>.json`` per rule.

Each file is the probe's evidence on the rule's catalog bad example (``rules/<CODE>-<name>/bad.csv``,
also recorded there as ``evidence.json``), or for the PF3xx output kinds on ``reference.data``'s
sets, marked ``"data": "reference"``. ``python -m preflight.probes.reference`` regenerates them,
and a slow test checks that a fresh run matches within tolerance.
"""

from __future__ import annotations

import json
from importlib import resources

from preflight.findings import Evidence

# The catalog rule whose recorded evidence stands for a family's rules that have none of their own.
FAMILY_EXAMPLE = {"order": "PF201", "scale": "PF101"}


def file_name(code: str, family: str | None = None) -> str:
    """``<CODE>.json``, or ``output-<kind>.json`` for an output family (PF3xx rules share them)."""
    if family and family.startswith("output:"):
        return f"output-{family.partition(':')[2]}.json"
    return f"{code}.json"


def reference_evidence(code: str, family: str | None = None) -> Evidence | None:
    """The recorded evidence for ``code`` (or its output ``family``), or None when there is none."""
    names = [file_name(code, family)]
    if family in FAMILY_EXAMPLE:  # e.g. an unshuffled loader (PF203) is measured by PF201's example
        names.append(file_name(FAMILY_EXAMPLE[family]))
    for name in names:
        try:
            text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
            break
        except (FileNotFoundError, OSError):
            continue
    else:
        return None
    return Evidence.from_dict({**json.loads(text), "data": "reference", "rule": code})
