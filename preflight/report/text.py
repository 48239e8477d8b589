"""Human-readable text: findings grouped by file, each with its fix, then a one-line tally.

Every line is one line: the names in it (paths, columns, messages quoting code) pass through
``preflight.printable`` as the line is made, so a newline or an escape sequence in a name is written
as ``\\n`` / ``\\x1b``, never as a line break or a terminal command.
"""

from __future__ import annotations

from typing import Any

from preflight.findings import Finding, Report, Severity
from preflight.printable import printable
from preflight.report.evidence import render_line


def render_text(report: Report, *, show_summary: bool = True) -> str:
    """The text report: ``preflight check`` prints it and ``str(report)`` returns it."""
    lines: list[str] = []
    by_path: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_path.setdefault(f.location.path or "<object>", []).append(f)
    summaries = {s["path"]: s for s in report.summary.get("files", [])}
    for path in sorted(set(by_path) | (set(summaries) if show_summary else set())):
        if show_summary and path in summaries and (described := describe_file(summaries[path])):
            lines.append(described)
        for f in by_path.get(path, []):
            lines.append(format_finding(f))
            if f.fix:
                lines.append(printable(f"    fix: {f.fix}"))
            if f.probe is not None:
                lines.append(printable(f"    probe: {render_line(f.probe)}"))
    lines.append(tally(report))
    return "\n".join(lines)


def format_finding(f: Finding) -> str:
    column = f" [{f.location.column}]" if f.location.column else ""
    level = "" if f.severity == Severity.WARNING else f" ({f.severity})"
    return printable(f"{f.location}: {f.code} {f.name}{column}{level} {f.message}")


def describe_file(s: dict[str, Any]) -> str:
    """A file's summary lines (its shape, target and notes), each made printable."""
    return "\n".join(printable(line) for line in _describe(s))


def _describe(s: dict[str, Any]) -> list[str]:
    if s.get("kind") == "python":  # a clean .py file is not worth a line, as in ruff
        return [f"{s['path']}: note: {note}" for note in s.get("notes", [])]
    if s.get("kind") == "setup":
        return [f"{s['path']}: {s.get('description') or 'live objects'}"] + [
            f"{s['path']}: note: {note}" for note in s.get("notes", [])]
    parts = [f"{s.get('rows', 0):,} rows x {s.get('columns', 0)} columns"]
    if s.get("target"):
        parts.append(f"target {s['target']!r} ({s.get('task') or 'unknown task'}; {s.get('target_reason', '')})")
    else:
        parts.append(s.get("target_reason") or "no target")
    kinds = s.get("column_kinds", {})
    skipped = {k: v for k, v in kinds.items() if k in ("text", "categorical", "datetime", "empty")}
    if skipped:
        parts.append("not scale-checked: " + "; ".join(f"{k} {', '.join(map(repr, v[:5]))}"
                                                        + (" ..." if len(v) > 5 else "")
                                                        for k, v in skipped.items()))
    if s.get("time_column"):
        parts.append(f"time-ordered by {s['time_column']!r}")
    return [f"{s['path']}: " + "; ".join(parts)] + [f"{s['path']}: note: {note}" for note in s.get("notes", [])]


def tally(report: Report) -> str:
    counts = report.summary.get("counts", {})
    n_files = len(report.summary.get("files", []))
    total = len(report.findings)
    parts = [f"{counts.get(str(s), 0)} {s}{'s' * (counts.get(str(s), 0) != 1 and s != Severity.INFO)}"
             for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    head = "No problems found" if total == 0 else f"Found {total} problem{'s' * (total != 1)}"
    skipped = int(report.summary.get("skipped", 0))  # files in a folder of a type preflight does not read
    line = f"{head} in {n_files} file{'s' * (n_files != 1)} ({', '.join(parts)})" + (
        f"; {skipped} file{'s' * (skipped != 1)} skipped (unsupported type)." if skipped else ".")
    if report.errors:
        line += f" {len(report.errors)} input{'s' * (len(report.errors) != 1)} could not be read."
    return line
