"""Recorded probe evidence for findings in code, which have no rows of their own: one file per fix
that a rule on code names, ``<family>.json`` (``order.json``, ``output-<kind>.json``).

``order.json`` is the probe's evidence on the catalog bad example of the first data rule with the same
fix (``rules/PF201-label-sorted-rows/bad.csv``, recorded there too as ``evidence.json``; a test
asserts the two are the same); ``output-<kind>.json`` the PF3xx probe on ``reference.data``'s sets;
``loop-<kind>.json`` the PF501-PF506 training-loop probes (``reference.loops``: the loop as the rule
finds it against the rule's fix).
Data rules' findings are always probed on the user's rows, so their fixes need no file here.
``python -m preflight.probes.reference`` regenerates them, and a slow test checks that a fresh run
matches within tolerance.
"""

from __future__ import annotations

import json
from importlib import resources

from preflight.checks.fixes import Fix
from preflight.findings import Evidence


def file_name(fix: Fix) -> str:
    """``<family>.json``, the family's ``:`` written ``-`` (``output:sigmoid_bce`` -> ``output-sigmoid_bce.json``)."""
    return fix.family.replace(":", "-") + ".json"


def reference_evidence(code: str, fix: Fix) -> Evidence | None:
    """The recorded evidence of ``fix``, for rule ``code``'s findings in code, or None when there is none."""
    try:
        text = resources.files(__name__).joinpath(file_name(fix)).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    return Evidence.from_dict({**json.loads(text), "data": "reference", "rule": code})
