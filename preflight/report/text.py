"""Human-readable text, concise by default as ruff's: one line per problem, then a one-line tally.

``path:line:col: CODE name message`` for code, ``path: CODE name [col1, col2] message`` for data:
one line per rule per file naming all its columns (``report.grouping``), the probe's verdict in a few
words on the next line (``probe: confirmed, best held-out BCE 0.656 -> 0.107``; evidence measured on
preflight's reference data says so first: ``probe (reference data): ...``). A file with nothing to
report prints nothing; a file's notes always print. ``-v`` adds each file's summary (rows, columns,
the inferred target), each column's own message, the fixes and the probe's full evidence;
``--show-fixes`` and ``--show-probe`` add one of them. ``--statistics`` prints counts per rule.

Every line is one line: the names in it (paths, columns, messages quoting code) pass through
``preflight.printable`` as the line is made, so a newline or an escape sequence in a name is written
as ``\\n`` / ``\\x1b``, never as a line break or a terminal command. Colour (``TextOptions.color``)
is added after that, so only the renderer's own escape sequences reach the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from preflight.findings import Finding, Report, Severity
from preflight.printable import printable
from preflight.report.evidence import render_line, render_verdict
from preflight.report.grouping import Group, group_findings

MAX_NAMED = 8  # columns named on a problem's line; the rest counted
COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass(frozen=True)
class TextOptions:
    verbose: bool = False  # file summaries, each column's message, fixes, the full probe evidence
    show_fixes: bool = False
    show_probe: bool = False
    statistics: bool = False  # counts per rule instead of the problems
    quiet: bool = False  # the problems' lines only: no notes, probe lines or tally
    color: bool = False


def render_text(report: Report, options: TextOptions = TextOptions()) -> str:
    """The text report: ``preflight check`` prints it and ``str(report)`` returns it."""
    groups = group_findings(report.findings)
    if options.statistics:
        return "\n".join(statistics(groups, options) + ([] if options.quiet else [tally(report, options)]))
    lines: list[str] = []
    by_path: dict[str, list[Group]] = {}
    for g in groups:
        by_path.setdefault(g.first.location.path or "<object>", []).append(g)
    summaries = {} if options.quiet else {s["path"]: s for s in report.summary.get("files", [])}
    for path in sorted(set(by_path) | set(summaries)):
        if path in summaries:
            lines += [printable(line) for line in (_describe(summaries[path]) if options.verbose
                                                   else _notes(summaries[path]))]
        for g in by_path.get(path, []):
            lines += group_lines(g, options)
    if not options.quiet:
        lines.append(tally(report, options))
    return "\n".join(lines)


def _style(text: str, options: TextOptions, **kw: Any) -> str:
    return click.style(text, **kw) if options.color else text


def group_lines(g: Group, options: TextOptions = TextOptions()) -> list[str]:
    """A problem's line and, as the options ask, its columns, fixes and probe evidence."""
    lines = [format_group(g, options)]
    if options.quiet:
        return lines
    more = options.verbose and len(g.members) > 1
    if more:
        lines += [printable(f"    [{f.location.column}] {f.message}") for f in g.members]
    if options.verbose or options.show_fixes:
        fixes = g.fixes
        if len(fixes) == 1:
            lines.append(printable(f"    fix: {fixes[0]}"))
        else:
            lines += [printable(f"    fix [{f.location.column}]: {f.fix}") for f in g.members if f.fix]
        auto = g.members[0].autofix
        if auto is not None:
            how = "safe, --fix" if auto.safe else f"unsafe, --fix --unsafe-fixes: {auto.why_unsafe}"
            lines.append(printable(f"    autofix ({how}): {auto.message}"))
    if (ev := g.probe) is not None:
        label = "probe (reference data):" if ev.data == "reference" else "probe:"
        words = render_line(ev) if options.verbose or options.show_probe else render_verdict(ev)
        lines.append("    " + _style(label, options, dim=True) + " " + printable(words))
    return lines


def format_group(g: Group, options: TextOptions = TextOptions()) -> str:
    """``path: CODE name [a, b, +3 more] message``: one line for the group's findings."""
    f, columns = g.first, g.columns
    named = columns[:MAX_NAMED] + ([f"+{len(columns) - MAX_NAMED} more"] if len(columns) > MAX_NAMED else [])
    column = f" [{', '.join(named)}]" if named else ""
    message = f.message
    if len(g.members) > 1 and len({m.message for m in g.members}) > 1:
        rest = len(g.members) - 1
        message = (f"{f.location.column}: {message}; {rest} more column{'s' * (rest != 1)}"
                   f"{'' if options.verbose else ' (-v shows each)'}")
    level = "" if g.severity == Severity.WARNING else f" ({g.severity})"
    return (_style(printable(f"{f.location}:"), options, bold=True) + " "
            + _style(f.code, options, fg=COLORS[g.severity], bold=True)
            + (" [*]" if f.autofix is not None and f.autofix.safe else "")
            + printable(f" {f.name}{column}{level} {message}"))


def format_finding(f: Finding) -> str:
    """One finding's line (a group of one), plain."""
    return format_group(Group((f,)))


def statistics(groups: list[Group], options: TextOptions = TextOptions()) -> list[str]:
    """Problems per rule, most first (ruff's ``--statistics``): count, code, name."""
    counts = Counter((g.first.code, g.first.name) for g in groups)
    width = len(str(max(counts.values(), default=0)))
    return [_style(f"{n:>{width}}", options, bold=True) + "  " + _style(code, options, fg="red", bold=True)
            + f"  {name}" for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def describe_file(s: dict[str, Any]) -> str:
    """A file's summary lines (its shape, target and notes), each made printable."""
    return "\n".join(printable(line) for line in _describe(s))


def _notes(s: dict[str, Any]) -> list[str]:
    return [f"{s['path']}: note: {note}" for note in s.get("notes", [])]


def _describe(s: dict[str, Any]) -> list[str]:
    if s.get("kind") == "python":  # a .py file's shape is not worth a line
        return _notes(s)
    if s.get("kind") == "setup":
        return [f"{s['path']}: {s.get('description') or 'live objects'}", *_notes(s)]
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
    return [f"{s['path']}: " + "; ".join(parts), *_notes(s)]


def tally(report: Report, options: TextOptions = TextOptions()) -> str:
    """``Found 3 problems in 2 files (1 error, 2 warnings, 0 info).``: a problem is a rule on a file
    (data, however many columns it names) or on a line (code)."""
    groups = group_findings(report.findings)
    counts = Counter(g.severity for g in groups)
    n_files = len(report.summary.get("files", []))
    total = len(groups)
    parts = [f"{counts[s]} {s}{'s' * (counts[s] != 1 and s != Severity.INFO)}"
             for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    head = "No problems found" if total == 0 else f"Found {total} problem{'s' * (total != 1)}"
    skipped = int(report.summary.get("skipped", 0))  # files in a folder of a type preflight does not read
    line = _style(head, options, bold=True) + f" in {n_files} file{'s' * (n_files != 1)} ({', '.join(parts)})" + (
        f"; {skipped} file{'s' * (skipped != 1)} skipped (unsupported type)." if skipped else ".")
    if report.errors:
        line += f" {len(report.errors)} input{'s' * (len(report.errors) != 1)} could not be read."
    return line + fixable_line(report.findings)


def fixable_line(findings: Sequence[Finding]) -> str:
    """``\n[*] 2 fixable with `preflight check --fix` (1 hidden fix can be enabled with `--unsafe-fixes`).``"""
    fixes = [f.autofix for f in findings if f.autofix is not None]
    safe = sum(1 for x in fixes if x.safe)
    unsafe = len(fixes) - safe
    if not fixes:
        return ""
    hidden = f" ({unsafe} hidden fix{'es' * (unsafe != 1)} can be enabled with `--unsafe-fixes`)" if unsafe else ""
    return f"\n[*] {safe} fixable with `preflight check --fix`{hidden}."
