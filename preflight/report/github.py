"""GitHub Actions workflow commands (``--format github``): one annotation per problem, as the text
output shows them (``report.grouping``: a data rule's columns of one file in one annotation, each
column's message on its own line of it).

``::warning file=data/train.csv,line=1,title=PF201 label-sorted-rows::[label] 2 runs of ...``

A step that runs ``preflight check --format github`` in a workflow shows each finding inline on
the pull request's changed files, and in the run's summary. Values are escaped as GitHub's
``@actions/core`` escapes them: ``%``, CR and LF in the message; also ``:`` and ``,`` in the
properties (file, title). Before that every name, message and error passes through
``preflight.printable`` (an ESC or a bidi override is written as ``\\x1b``, ``\\u202e``): only the
lines this renderer starts with ``::`` are commands. A data-file finding in a CSV/TSV points at
line 1, the header row that names the column; a binary file (Parquet, NumPy) has no line, and its
annotation names the file. A notebook finding names the file and starts its message with
``[cell 7, line 3]`` (no ``line=``: GitHub would place it on a line of the notebook's JSON text).
"""

from __future__ import annotations

from preflight.findings import Finding, Report, Severity
from preflight.printable import printable
from preflight.report.grouping import Group, group_findings
from preflight.report.links import finding_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(item: Finding | Group) -> str:
    g = item if isinstance(item, Group) else Group((item,))
    f = g.first
    props: list[tuple[str, str]] = []
    loc = f.location
    if loc.path:
        props.append(("file", printable(loc.path)))
        line = None if loc.cell is not None else finding_line(f)  # a notebook: the cell is in the message
        if line is not None:
            props.append(("line", str(line)))
            if loc.col is not None:
                props.append(("col", str(loc.col)))
    props.append(("title", f"{f.code} {f.name}"))
    message = "\n".join(printable((f"[{m.location.column}] " if m.location.column else "") + m.message)
                        for m in g.members)
    if loc.cell is not None:
        message = f"[cell {loc.cell}, line {loc.cell_line}] {message}"
    message += "".join(f"\nfix: {printable(fix)}" for fix in g.fixes)
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS[g.severity]} {head}::{escape_data(message)}"


def render_github(report: Report, *, quiet: bool = False) -> str:
    lines = [annotation(g) for g in group_findings(report.findings)]
    lines += [f"::error title={escape_property('preflight: input not read')}::{escape_data(printable(e))}"
              for e in report.errors]
    if not quiet:
        from preflight.report.text import tally

        lines.append(tally(report))
    return "\n".join(lines)
