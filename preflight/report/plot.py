"""SVG plot of a probe's held-out loss curves: as-is against fixed, every seed, the gap stated.

Self-contained SVG 1.1: no scripts, no external fonts or stylesheets, every text escaped. The
y axis is logarithmic when the losses span more than a factor of 10. A failed (NaN/inf) run is
drawn as far as it stayed finite and marked in the legend. The HTML report embeds the same SVG.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 48, 64
AS_IS = "#d1495b"
FIXED = "#00798c"
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""


def _esc(text: Any) -> str:
    return escape(str(text), {'"': "&quot;"})


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.0e}"
    return f"{v:.3g}"


def evidence_svg(ev: Mapping[str, Any], title: str | None = None) -> str:
    """The plot of ``ev`` (a probe's evidence dict) as an SVG document string."""
    head = title or f"{ev.get('rule', 'probe')}: held-out loss, as-is vs fixed"
    if ev.get("verdict") == "skipped" or "as_is" not in ev:
        return _frame(head, [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {FONT} '
                             f'font-size="14">probe skipped: {_esc(ev.get("reason", ""))}</text>'])
    steps: Sequence[int] = ev.get("curve_steps") or list(range(len(ev["as_is"]["curve"])))
    series = [("as-is", AS_IS, ev["as_is"]), ("fixed", FIXED, ev["fixed"])]
    values = [v for _, _, s in series for c in s.get("curves", [s.get("curve", [])]) for v in c
              if v is not None and math.isfinite(v)]
    if not values:
        values = [1.0]
    lo, hi = min(values), max(values)
    log = lo > 0 and hi / lo > 10
    if log:
        ylo, yhi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    else:
        pad = (hi - lo) * 0.05 or abs(hi) * 0.1 or 1.0
        ylo, yhi = (0.0 if lo >= 0 and lo - pad < 0 else lo - pad), hi + pad
    xmax = max(steps[-1], 1)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(step: float) -> float:
        return LEFT + pw * step / xmax

    def y(v: float) -> float:
        t = math.log10(v) if log else v
        return TOP + ph * (1 - (t - ylo) / ((yhi - ylo) or 1))

    parts: list[str] = [f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    for i in range(6):  # y ticks
        t = ylo + (yhi - ylo) * i / 5
        v = 10**t if log else t
        yy = y(v)
        parts.append(f'<line x1="{LEFT - 4}" y1="{yy:.1f}" x2="{LEFT}" y2="{yy:.1f}" stroke="#888"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" {FONT} font-size="11">'
                     f"{_esc(_fmt(v))}</text>")
    for i in range(6):  # x ticks
        s = xmax * i / 5
        parts.append(f'<line x1="{x(s):.1f}" y1="{TOP + ph}" x2="{x(s):.1f}" y2="{TOP + ph + 4}" stroke="#888"/>')
        parts.append(f'<text x="{x(s):.1f}" y="{TOP + ph + 17}" text-anchor="middle" {FONT} font-size="11">'
                     f"{int(round(s))}</text>")
    parts.append(f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 28}" text-anchor="middle" {FONT} font-size="12">'
                 "training step</text>")
    loss = _esc(ev.get("loss", "loss"))
    scale = ", log scale" if log else ""
    parts.append(f'<text transform="translate(14,{TOP + ph / 2}) rotate(-90)" text-anchor="middle" {FONT} '
                 f'font-size="12">held-out {loss}{scale}</text>')
    for label, colour, s in series:
        curves = s.get("curves") or [s.get("curve", [])]
        for c in curves:
            pts = [(x(st), y(v)) for st, v in zip(steps, c) if v is not None and math.isfinite(v)
                   and (not log or v > 0)]
            if len(pts) >= 2:
                d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
                parts.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="1.5" '
                             'stroke-opacity="0.85"/>')
    legend_y = HEIGHT - 10
    for i, (label, colour, s) in enumerate(series):
        lx = LEFT + i * 220
        final = s.get("final")
        text = f"{label}: {_fmt(final) if final is not None else 'NaN'}"
        if s.get("failed"):
            text += " (failed: NaN/inf)"
        parts.append(f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 18}" y2="{legend_y - 4}" stroke="{colour}" '
                     'stroke-width="3"/>')
        parts.append(f'<text x="{lx + 24}" y="{legend_y}" {FONT} font-size="12">{_esc(text)}</text>')
    return _frame(head, parts, subtitle=_gap_text(ev))


def _gap_text(ev: Mapping[str, Any]) -> str:
    gap = ev.get("gap", {})
    ratio = gap.get("ratio")
    seeds, steps = ev.get("seeds"), ev.get("steps")
    verdict = str(ev.get("verdict", "")).replace("_", " ")
    if ratio is not None:
        g = f"fixed/as-is held-out loss {ratio:.2f}x"
    elif ev.get("as_is", {}).get("failed"):
        g = "as-is run failed (NaN/inf loss)"
    else:
        g = "no ratio"
    data = "reference data" if ev.get("data") == "reference" else f"{ev.get('rows', {}).get('train', '?')} rows"
    return f"{verdict}: {g}; {seeds} seeds x {steps} steps on {data}; {ev.get('model', '')}"


def _frame(title: str, parts: list[str], subtitle: str = "") -> str:
    sub = (f'<text x="{LEFT}" y="38" {FONT} font-size="11" fill="#444">{_esc(subtitle)}</text>'
           if subtitle else "")
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">\n<title>{_esc(title)}</title>\n'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>\n'
            f'<text x="{LEFT}" y="20" {FONT} font-size="14" font-weight="bold">{_esc(title)}</text>\n'
            f"{sub}\n{body}\n</svg>\n")
