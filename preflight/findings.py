"""Finding, Severity and Report: plain values, no I/O.

A ``Report`` renders itself (``str()``, ``to_json()``) but never prints or exits;
``raise_for_findings()`` is the guard a training script calls before training.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from preflight.errors import FindingsError, PreflightError


class Severity(enum.IntEnum):
    """How much a finding matters. Ordered: ``INFO < WARNING < ERROR``."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: "str | Severity") -> "Severity":
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise PreflightError(f"unknown severity {value!r}: use one of {choices}") from None


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file, and within it a column (data) or a line and column (code)."""

    path: str | None = None
    column: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        where = self.path or "<object>"
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return where


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule.

    ``probe`` holds the reference training probe's evidence (a JSON-ready dict), or None
    when no probe ran.
    """

    code: str
    name: str
    severity: Severity
    message: str
    fix: str = ""
    location: Location = field(default_factory=Location)
    probe: Mapping[str, Any] | None = None

    def with_probe(self, probe: Mapping[str, Any] | None, severity: Severity | None = None) -> "Finding":
        return replace(self, probe=probe, severity=self.severity if severity is None else severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "path": self.location.path,
            "column": self.location.column,
            "line": self.location.line,
            "col": self.location.col,
            "message": self.message,
            "fix": self.fix,
            "probe": dict(self.probe) if self.probe is not None else None,
        }

    def __str__(self) -> str:
        column = f" [{self.location.column}]" if self.location.column else ""
        return f"{self.location}: {self.code} {self.name}{column} {self.message}"


@dataclass(frozen=True)
class Report:
    """The findings of one run and a summary of what was read."""

    findings: tuple[Finding, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @classmethod
    def build(cls, findings: Iterable[Finding], summary: Mapping[str, Any] | None = None,
              errors: Iterable[str] = ()) -> "Report":
        ordered = sorted(findings, key=_sort_key)
        summary = dict(summary or {})
        summary["counts"] = {str(s): sum(f.severity == s for f in ordered) for s in Severity}
        return cls(tuple(ordered), summary, tuple(errors))

    @property
    def ok(self) -> bool:
        """True when nothing at warning or above was found and every input was read."""
        return not self.errors and not self.at_or_above(Severity.WARNING)

    def at_or_above(self, severity: "str | Severity") -> list[Finding]:
        level = Severity.parse(severity)
        return [f for f in self.findings if f.severity >= level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "summary": dict(self.summary),
            "errors": list(self.errors),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_json_default)

    def raise_for_findings(self, min_severity: "str | Severity" = "warning") -> None:
        """Raise ``PreflightError`` when any finding is at ``min_severity`` or above."""
        bad = self.at_or_above(min_severity)
        if bad or self.errors:
            lines = [str(f) for f in bad] + list(self.errors)
            head = f"preflight found {len(bad)} problem(s) at {Severity.parse(min_severity)} or above"
            raise FindingsError(head + ":\n  " + "\n  ".join(lines))

    def __str__(self) -> str:
        from preflight.report.text import render_text

        return render_text(self)


def _sort_key(f: Finding) -> tuple:
    loc = f.location
    return (loc.path or "", loc.line or 0, loc.col or 0, f.code, loc.column is None, loc.column or "")


def _json_default(value: Any) -> Any:
    # numpy scalars and the like
    for attr in ("item", "tolist"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)
