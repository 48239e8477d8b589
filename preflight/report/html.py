"""A self-contained HTML report (``--format html -o report.html``).

One file: inline CSS, inline SVG plots, no scripts, no fonts, no fetches (a Content-Security-Policy
of ``default-src 'none'`` says so to the browser too). A summary of the inputs, a table of the
findings, then each finding with its message, its fix and, when the reference probe ran, its
held-out loss curves as-is against fixed, each seed, with the measured gap in words.

Everything that comes from the user's data (paths, column names, messages, probe notes) is
HTML-escaped, after ``preflight.printable`` (a control character or bidi override is written as an escape).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from preflight.findings import Evidence, Finding, Report, Severity
from preflight.printable import printable
from preflight.report.curves import has_curves, loss_curves_svg
from preflight.report.evidence import failures, gap_sentence, setup_words, verdict_word
from preflight.report.links import HOME_URL, rule_url

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1f23; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; line-height: 1.45; background: #ffffff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; }
h3 { font-size: 1.05rem; margin: 0 0 0.4rem 0; }
.tally { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem; }
.sev { display: inline-block; padding: 0 0.45rem; border-radius: 0.7rem; font-size: 0.8rem; font-weight: 600; }
.sev-error { background: #ffebe9; color: #a40e26; }
.sev-warning { background: #fff8c5; color: #7d4e00; }
.sev-info { background: #ddf4ff; color: #0969da; }
.finding { border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem 1.2rem; margin: 1rem 0; }
.where { color: #57606a; font-size: 0.9rem; margin-bottom: 0.5rem; }
.fix { background: #f6f8fa; border-left: 3px solid #2da44e; padding: 0.4rem 0.7rem; margin: 0.6rem 0; }
.probe { margin-top: 0.8rem; }
.verdict { font-weight: 600; }
.verdict-confirmed { color: #1a7f37; }
.verdict-not_reproduced { color: #7d4e00; }
.verdict-skipped { color: #57606a; }
.gap { margin: 0.3rem 0; }
.meta { color: #57606a; font-size: 0.85rem; }
.errors li { color: #a40e26; }
/* a narrow window scrolls a table or a plot sideways rather than the page, or the plot's text shrinking
   past reading */
.wide { overflow-x: auto; }
.where { overflow-wrap: anywhere; }
svg.pf-plot { display: block; margin: 0.6rem 0; width: 100%; min-width: 30rem; max-width: 48rem; height: auto; }
footer { margin-top: 3rem; color: #57606a; font-size: 0.8rem; }
"""


def render_html(report: Report, *, title: str = "preflight report") -> str:
    from preflight.report.text import tally
    from preflight.version import __version__

    body: list[str] = [f"<h1>{_e(title)}</h1>", f'<p class="tally">{_e(tally(report))}</p>']
    body += _inputs_section(report)
    body += _findings_table(report.findings)
    if report.errors:
        body.append("<h2>Inputs that could not be read</h2>")
        body.append('<ul class="errors">' + "".join(f"<li>{_e(e)}</li>" for e in report.errors) + "</ul>")
    if report.findings:
        body.append("<h2>Details</h2>")
        body += [_finding_section(i, f) for i, f in enumerate(report.findings, 1)]
    body.append(f'<footer>preflight {_e(__version__)} &middot; <a href="{_e(HOME_URL)}">{_e(HOME_URL)}</a>'
                f"</footer>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ])


def _inputs_section(report: Report) -> list[str]:
    files = list(report.summary.get("files") or [])
    if not files:
        return []
    per_file: dict[str, dict[str, int]] = {}
    for f in report.findings:
        counts = per_file.setdefault(f.location.path or "<object>", {})
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    rows = []
    for s in files:
        path = str(s.get("path", ""))
        counts = per_file.get(path, {})
        found = ", ".join(_counted(counts[str(sev)], sev) for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO)
                          if str(sev) in counts) or "none"
        target = s.get("target")
        rows.append("<tr>" + "".join([
            f'<td class="mono">{_e(path)}</td>',
            f'<td class="num">{_e(_int(s.get("rows")))}</td>',
            f'<td class="num">{_e(_int(s.get("columns")))}</td>',
            f"<td>{_e(target) if target else '<em>none</em>'}</td>",
            f"<td>{_e(s.get('task') or '')}</td>",
            f"<td>{_e(found)}</td>",
        ]) + "</tr>")
    return ["<h2>Inputs</h2>", '<div class="wide"><table>',
            "<tr><th>File</th><th>Rows</th><th>Columns</th><th>Target</th><th>Task</th><th>Findings</th></tr>",
            *rows, "</table></div>"]


def _findings_table(findings: Iterable[Finding]) -> list[str]:
    findings = list(findings)
    if not findings:
        return ["<h2>Findings</h2>", "<p>No problems found.</p>"]
    rows = []
    for i, f in enumerate(findings, 1):
        rows.append("<tr>" + "".join([
            f"<td>{_badge(f.severity)}</td>",
            f'<td><a href="#finding-{i}"><code>{_e(f.code)}</code></a> {_e(f.name)}</td>',
            f'<td class="mono">{_e(str(f.location))}</td>',
            f'<td class="mono">{_e(f.location.column or "")}</td>',
            f"<td>{_e(f.message)}</td>",
            f"<td>{_e(verdict_word(f.probe))}</td>",
        ]) + "</tr>")
    return ["<h2>Findings</h2>", '<div class="wide"><table>',
            "<tr><th>Severity</th><th>Rule</th><th>Where</th><th>Column</th><th>Message</th><th>Probe</th></tr>",
            *rows, "</table></div>"]


def _finding_section(i: int, f: Finding) -> str:
    where = _e(str(f.location)) + (f" &middot; column <code>{_e(f.location.column)}</code>"
                                   if f.location.column else "")
    parts = [f'<section class="finding" id="finding-{i}">',
             f'<h3>{_badge(f.severity)} <a href="{_e(rule_url(f.code, f.name))}"><code>{_e(f.code)}</code> '
             f"{_e(f.name)}</a></h3>",
             f'<div class="where mono">{where}</div>',
             f'<p class="message">{_e(f.message)}</p>']
    if f.fix:
        parts.append(f'<div class="fix"><strong>Fix:</strong> {_e(f.fix)}</div>')
    if f.probe is not None:
        parts.append(_probe_block(f.probe, f.fix))
    parts.append("</section>")
    return "\n".join(parts)


def _probe_block(probe: Evidence, fix: str) -> str:
    verdict = probe.verdict
    out = ['<div class="probe">',
           f'<div><span class="verdict verdict-{_e(verdict)}">Probe {_e(verdict_word(probe))}</span>'
           + (f": {_e(probe.reason)}" if probe.reason else "") + "</div>"]
    gap = gap_sentence(probe)
    if gap:
        out.append(f'<p class="gap">{_e(gap[0].upper() + gap[1:])}.</p>')
    for side, why in failures(probe):
        out.append(f'<p class="meta">{_e(side[0].upper() + side[1:])}: {_e(why)}</p>')
    if has_curves(probe):  # a skipped probe's reason is already above, in words
        out.append(f'<div class="wide">{loss_curves_svg(probe, fix=fix)}</div>')
    meta = setup_words(probe)
    if meta:
        out.append(f'<p class="meta">{_e(meta)}</p>')
    for note in probe.notes:
        out.append(f'<p class="meta">Note: {_e(note)}</p>')
    out.append("</div>")
    return "\n".join(out)


def _badge(sev: Severity) -> str:
    return f'<span class="sev sev-{sev}">{sev}</span>'


def _counted(n: int, severity: Severity) -> str:
    """"1 warning", "2 warnings", "2 errors", "3 info" (a mass noun, as the tally says)."""
    return f"{n} {severity}" + ("s" if n != 1 and severity != Severity.INFO else "")


def _int(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else ("" if v is None else str(v))


def _e(value: Any) -> str:
    return escape(printable("" if value is None else str(value)), quote=True)
