"""SARIF 2.1.0 (``--format sarif``): one run, every rule described, one result per finding.

GitHub code scanning (``github/codeql-action/upload-sarif``), VS Code's SARIF viewer and other
tools read it. Locations:

- a finding in code (a ``.py`` file) has a region with its 1-based line and column;
- a finding in a CSV/TSV file points at line 1, the header row that names the column (code
  scanning shows an alert only where there is a line); the column is named in the message and
  in ``properties.column``;
- a finding in a binary file (Parquet, NumPy) names the file only: a line would mean nothing;
- a finding in a notebook (``.ipynb``) names the file and, as a logical location, its cell
  (``cell 7``, fully qualified ``cell 7:line 3``; also ``properties.cell`` / ``cell_line``), and
  has no region: a line of the joined code cells is no line of the notebook's JSON text.

Paths a user gave relative to the working directory stay relative (``uriBaseId`` ``%SRCROOT%``,
which ``originalUriBaseIds`` maps to that directory), so alerts keep their identity between runs
on different machines; absolute paths become ``file://`` URIs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from preflight.findings import Finding, Report, Severity
from preflight.report.links import HOME_URL, finding_line, rule_url
from preflight.urls import is_remote

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "preflightFinding/v1"


def render_sarif(report: Report, rules: Iterable[Any], cwd: str | os.PathLike | None = None) -> str:
    return json.dumps(to_sarif(report, rules, cwd), indent=2, allow_nan=False, default=_jsonable)


def to_sarif(report: Report, rules: Iterable[Any], cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The SARIF log as a dict, describing ``rules`` (the CLI passes every rule preflight has) and any
    rule a finding names that is not among them."""
    descriptors = [rule_descriptor(r) for r in rules]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for f in report.findings:  # a finding from a rule not in the list still gets a descriptor
        if f.code not in index:
            index[f.code] = len(descriptors)
            descriptors.append({"id": f.code, "name": f.name, "helpUri": rule_url(f.code, f.name),
                                "shortDescription": {"text": f"{f.code} {f.name}"},
                                "defaultConfiguration": {"level": LEVELS[f.severity]}})
    from preflight.version import __version__

    root = Path(cwd) if cwd is not None else Path.cwd()
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "preflight",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": HOME_URL,
            "rules": descriptors,
        }},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code]) for f in report.findings],
    }
    files = report.summary.get("files")
    if files:
        run["properties"] = {"files": _jsonable(list(files))}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Any) -> dict[str, Any]:
    doc = rule.doc()
    out: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc_section(doc, "What it does") or rule.summary},
        "helpUri": rule_url(rule.code, rule.name),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["preflight", _family(rule.code)]},
    }
    if doc:
        out["help"] = {"text": doc, "markdown": doc}
    return out


def doc_section(doc: str, title: str) -> str:
    """One ``## title`` section of a rule docstring, as a single paragraph."""
    match = re.search(rf"^##\s*{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", doc, flags=re.M | re.S)
    if not match:
        return ""
    return " ".join(line.strip() for line in match.group(1).strip().splitlines() if line.strip())


def artifact_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) for a path as the user gave it (a URL as it is: ``s3://bucket/key``)."""
    if is_remote(path):
        return path, None
    p = Path(path)
    if p.is_absolute():
        return p.as_uri(), None
    posix = PurePosixPath(*p.parts).as_posix() if p.parts else "."
    return quote(posix, safe="/-._~"), SRCROOT


def message_text(f: Finding) -> str:
    text = f.message
    if f.location.column:
        text = f"column {f.location.column!r}: {text}"
    if f.fix:
        text += f"\nFix: {f.fix}"
    return text


def fingerprint(f: Finding) -> str:
    key = "\x1f".join([f.code, f.location.path or "", f.location.column or "", str(f.location.line or "")])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": message_text(f)},
    }
    loc = f.location
    if loc.path:
        uri, base = artifact_uri(loc.path)
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        physical: dict[str, Any] = {"artifactLocation": artifact}
        region = _region(f)
        if region:
            physical["region"] = region
        out["locations"] = [{"physicalLocation": physical, **_cell_location(f)}]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f)}
    if f.autofix is not None and loc.path and loc.cell is None:
        out["fixes"] = [_fix(f, out["locations"][0]["physicalLocation"]["artifactLocation"])]
    props: dict[str, Any] = {"severity": str(f.severity), "name": f.name}
    if loc.column is not None:
        props["column"] = loc.column
    if loc.cell is not None:
        props["cell"], props["cell_line"] = loc.cell, loc.cell_line
    if f.fix:
        props["fix"] = f.fix
    if loc.line is not None:
        props["autofix"] = {"available": f.autofix is not None, "safe": f.autofix.safe if f.autofix else None}
    if f.probe is not None:
        props["probe"] = _jsonable(f.probe.to_dict())
    out["properties"] = props
    return out


def _fix(f: Finding, artifact: dict[str, Any]) -> dict[str, Any]:
    """A SARIF ``fix``: the edits as replacements (columns from 1, the end exclusive)."""
    fix = f.autofix
    safety = "safe" if fix.safe else f"unsafe: {fix.why_unsafe}"
    return {"description": {"text": f"{fix.message} ({safety})"},
            "artifactChanges": [{"artifactLocation": artifact, "replacements": [
                {"deletedRegion": {"startLine": e.line, "startColumn": e.col + 1, "endLine": e.end_line,
                                   "endColumn": e.end_col + 1},
                 "insertedContent": {"text": e.text}} for e in fix.edits]}]}


def _cell_location(f: Finding) -> dict[str, Any]:
    """A notebook finding's cell, as a logical location (``cell 7``, fully qualified ``cell 7:line 3``)."""
    loc = f.location
    if loc.cell is None:
        return {}
    return {"logicalLocations": [{"name": f"cell {loc.cell}", "kind": "notebookCell",
                                  "fullyQualifiedName": f"cell {loc.cell}:line {loc.cell_line}"}]}


def _region(f: Finding) -> dict[str, Any] | None:
    if f.location.cell is not None:  # a line of the joined cells is no line of the .ipynb's JSON text
        return None
    line = finding_line(f)
    if line is None:
        return None
    region: dict[str, Any] = {"startLine": line}
    if f.location.line is not None and f.location.col is not None and f.location.col >= 1:
        region["startColumn"] = int(f.location.col)
    return region


def _invocation(report: Report) -> dict[str, Any]:
    inv: dict[str, Any] = {"executionSuccessful": not report.errors}
    if report.errors:
        inv["toolExecutionNotifications"] = [{"level": "error", "message": {"text": e}} for e in report.errors]
    return inv


def _family(code: str) -> str:
    families = {"PF1": "feature-scale", "PF2": "row-order", "PF3": "model-output", "PF5": "training-loop"}
    return families.get(code[:3], "other")


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN/inf as None (SARIF is strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    for attr in ("item", "tolist"):
        if hasattr(value, attr):
            return _jsonable(getattr(value, attr)())
    return str(value)
