"""Held-out loss curves of a probe as SVG: as-is against fixed, each seed and their mean.

Reads the probe evidence dict (``as_is`` / ``fixed`` with ``curve``, the mean over seeds, and
``curves``, one list per seed; ``curve_steps`` for the x axis). A missing value (the loss became
NaN or inf) breaks the line and is marked with a cross, which the legend explains. Losses spanning
more than ``LOG_SPAN`` use a log axis. Pure string building: no plotting library, no torch.

The same SVG is inlined by the HTML report and written to a file by ``preflight probe --plot``:
a well-formed SVG 1.1 document with its namespace, no scripts, no external fonts or stylesheets,
every text escaped. Given a ``title`` it is a standalone figure: the title heads it, with the
verdict, the gap in words and the setup under it (the HTML report prints those beside the plot).
"""

from __future__ import annotations

import math
import textwrap
from html import escape
from typing import Any, Mapping, Sequence

W, H = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 52
COLORS = {"as_is": "#d62728", "fixed": "#1f77b4"}
LABELS = {"as_is": "as-is", "fixed": "fixed"}
LOG_SPAN = 50.0  # max/min ratio above which the y axis is logarithmic
PAD = 12  # left edge of the heading lines
LINE = 15  # px per line of the heading's text
CHAR = 6.3  # px per character of 11px sans-serif, a generous average, to wrap the heading's lines
VERDICTS = {"confirmed": "Probe confirmed", "not_reproduced": "Probe not reproduced"}


def series(variant: Mapping[str, Any] | None) -> tuple[list[float | None], list[list[float | None]]]:
    """(mean curve, per-seed curves) of one variant; either may be empty."""
    if not isinstance(variant, Mapping):
        return [], []
    seeds = [list(map(_num, c)) for c in variant.get("curves") or [] if isinstance(c, (list, tuple))]
    curve = variant.get("curve") or []
    if curve and all(isinstance(c, (list, tuple)) for c in curve):  # a list of per-seed curves
        seeds = seeds or [list(map(_num, c)) for c in curve]
        curve = []
    mean = [_num(v) for v in curve]
    if not mean and seeds:
        mean = _mean(seeds)
    return mean, seeds


def has_curves(probe: Mapping[str, Any]) -> bool:
    """Whether ``loss_curves_svg`` draws curves: the probe ran and its evidence holds a finite loss."""
    return probe.get("verdict") != "skipped" and any(
        v is not None for m, s in _variants(probe).values() for c in [m, *s] for v in c)


def loss_curves_svg(probe: Mapping[str, Any], *, title: str | None = None, width: int = W, height: int = H) -> str:
    """The plot of ``probe`` (the evidence dict) as an SVG document string.

    ``width`` x ``height`` is the plot; a ``title`` adds a heading band above it (the title, then the
    verdict, the gap and the setup in words), and the document is that much taller. A skipped probe,
    or evidence without a curve, gives a frame of the same size that says so (see ``has_curves``).
    """
    variants = _variants(probe)
    lengths = [len(m) for m, _ in variants.values()] + [len(c) for _, s in variants.values() for c in s]
    n = max(lengths, default=0)
    values = [v for m, s in variants.values() for c in [m, *s] for v in c if v is not None]
    if probe.get("verdict") == "skipped" or not values:
        return _no_plot(probe, title, width, height)
    steps = probe.get("curve_steps")
    if isinstance(steps, (list, tuple)) and len(steps) == n and all(_num(x) is not None for x in steps):
        xs = [float(x) for x in steps]
        x_label = "training step"
    else:
        xs = [float(i + 1) for i in range(n)]
        x_label = "evaluation point"
    loss_name = str(probe.get("loss") or "loss")
    lo, hi = min(values), max(values)
    log = lo > 0 and hi / lo > LOG_SPAN
    y_label = f"held-out {loss_name}" + (" (log scale)" if log else "")
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x1 = x0 + 1
    if log:
        y0, y1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        if y1 == y0:
            y1 += 1
    else:
        y0, y1 = _nice_range(lo, hi)

    head = _heading(title, _summary_lines(probe, width) if title else [])
    top = TOP + _heading_height(head)
    height += top - TOP
    pw, ph = width - LEFT - RIGHT, height - top - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        t = math.log10(v) if log else v
        return top + ph - (t - y0) / (y1 - y0) * ph

    caption = _caption(probe, loss_name)
    out = [*_open(width, height, title or caption, caption if title else ""), *head,
           f'<rect x="{LEFT}" y="{top}" width="{pw}" height="{ph}" fill="#ffffff" stroke="#888888"/>']
    # y ticks and grid
    for t in (range(int(y0), int(y1) + 1) if log else _ticks(y0, y1)):
        y = top + ph - (t - y0) / (y1 - y0) * ph
        label = _fmt(10.0 ** t) if log else _fmt(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    # x ticks
    for t in _ticks(x0, x1, integer=True):
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#888888"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{escape(_fmt(t))}</text>')
    out.append(f'<text class="x-label" x="{LEFT + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">'
               f"{escape(x_label)}</text>")
    out.append(f'<text class="y-label" transform="translate(16 {top + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    # curves: seeds thin, mean thick, as-is first so fixed draws on top
    crosses: list[str] = []
    for key in ("as_is", "fixed"):
        mean, seeds = variants[key]
        color = COLORS[key]
        for i, c in enumerate(seeds):
            out += _polyline(c, xs, px, py, color, 1.0, 0.45, f"curve {key} seed seed-{i}")
        if mean:
            out += _polyline(mean, xs, px, py, color, 2.5, 1.0, f"curve {key} mean")
            crosses += _failures(mean, xs, px, top, color, key)
    out += crosses
    # legend
    lx, ly = LEFT + pw - 150, top + 10
    out.append(f'<rect x="{lx - 8}" y="{ly - 8}" width="152" height="{66 if crosses else 50}" fill="#ffffff" '
               f'fill-opacity="0.85" stroke="#cccccc"/>')
    for i, key in enumerate(("as_is", "fixed")):
        _, seeds = variants[key]
        y = ly + 6 + i * 16
        note = f" (mean of {len(seeds)} seeds)" if len(seeds) > 1 else ""
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 22}" y2="{y}" stroke="{COLORS[key]}" stroke-width="2.5"/>')
        out.append(f'<text x="{lx + 28}" y="{y + 4}">{escape(LABELS[key] + note)}</text>')
    out.append(f'<text x="{lx}" y="{ly + 40}" fill="#555555">thin lines: each seed</text>')
    if crosses:
        out.append(f'<text x="{lx}" y="{ly + 56}" fill="#555555">\u00d7 training failed (NaN/inf)</text>')
    out.append("</svg>")
    return "\n".join(out)


def gap_sentence(probe: Mapping[str, Any]) -> str:
    """The measured gap in words: losses, ratio, metric, and when (if ever) as-is catches up."""
    a, f = probe.get("as_is") or {}, probe.get("fixed") or {}
    if not isinstance(a, Mapping) or not isinstance(f, Mapping):
        return ""
    loss = str(probe.get("loss") or "loss")
    gap = probe.get("gap")
    # the probe states which losses its gap compares: the final ones, or the best (early stopping)
    best = isinstance(gap, Mapping) and "best" in str(gap.get("compares", "")) and a.get("best") is not None
    key, which = ("best", "best held-out") if best else ("final", "final held-out")
    fa, ff = _num(a.get(key)), _num(f.get(key))
    parts = []
    if fa is not None or ff is not None:
        s = f"{which} {loss} {_fmt_or_failed(fa, a)} as-is, {_fmt_or_failed(ff, f)} fixed"
        ratio = _num(gap.get("ratio")) if isinstance(gap, Mapping) else None
        diff = _num(gap.get("difference")) if isinstance(gap, Mapping) else _num(gap)
        if ratio is None and fa and ff is not None and fa > 0:
            ratio = ff / fa
        if diff is None and fa is not None and ff is not None:
            diff = fa - ff
        extras = []
        if ratio is not None:
            extras.append(f"fixed/as-is = {ratio:.2f}")
        if diff is not None:
            extras.append(f"gap {_fmt(diff)}")
        if extras:
            s += f" ({', '.join(extras)})"
        parts.append(s)
    metric = str(probe.get("metric") or "accuracy")
    ma, mf = _num(a.get(metric)), _num(f.get(metric))
    if ma is not None and mf is not None:
        show = (lambda v: f"{v:.0%}") if metric == "accuracy" else (lambda v: f"{v:.3f}")
        parts.append(f"{metric} {show(ma)} as-is, {show(mf)} fixed")
    if isinstance(gap, Mapping) and "as_is_reaches_fixed_at" in gap:
        reach = gap.get("as_is_reaches_fixed_at")
        steps = probe.get("steps")
        parts.append(f"as-is reaches the fixed {key} loss at step {reach}" if reach is not None
                     else f"as-is never reaches the fixed {key} loss" + (f" in {steps} steps" if steps else ""))
    return "; ".join(parts)


# --- helpers ------------------------------------------------------------------------------

def _variants(probe: Mapping[str, Any]) -> dict[str, tuple[list[float | None], list[list[float | None]]]]:
    return {k: series(probe.get(k)) for k in ("as_is", "fixed")}


def _caption(probe: Mapping[str, Any], loss_name: str) -> str:
    return f"Held-out {loss_name} per step, as-is against fixed. {gap_sentence(probe)}".strip()


def _open(width: int, height: int, title: str, desc: str = "") -> list[str]:
    """The document's start: namespace, size, accessible name (and description), white background."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="pf-plot" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
            f"<title>{escape(title)}</title>",
            *([f"<desc>{escape(desc)}</desc>"] if desc else []),
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>']


def _summary_lines(probe: Mapping[str, Any], width: int) -> list[str]:
    """The verdict, the gap in words and the setup, packed into lines that fit ``width``."""
    verdict = probe.get("verdict")
    word = VERDICTS.get(str(verdict), f"Probe {verdict}") if verdict else ""
    parts = [p for p in gap_sentence(probe).split("; ") if p]
    if word:
        parts[:1] = [f"{word}: {parts[0]}" if parts else word]
    setup: list[str] = []
    if probe.get("seeds") is not None and probe.get("steps") is not None:
        setup.append(f"{probe['seeds']} seeds x {probe['steps']} steps")
    rows = probe.get("rows")
    if probe.get("data") == "reference":
        setup.append("on preflight's reference data")
    elif isinstance(rows, Mapping) and rows.get("train") is not None:
        setup.append(f"on {rows['train']} training rows")
    if setup:
        parts.append(" ".join(setup))
    if probe.get("model"):
        parts.append(str(probe["model"]))
    return _pack(parts, width)


def _pack(parts: Sequence[str], width: int) -> list[str]:
    """``parts`` joined by '; ' into lines of at most the characters that fit ``width``."""
    most = max(20, int((width - 2 * PAD) / CHAR))
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 2 + len(part) <= most:
            lines[-1] += "; " + part
        else:
            lines += textwrap.wrap(part, most) or [""]
    return lines


def _heading(title: str | None, lines: Sequence[str]) -> list[str]:
    """The title in bold and ``lines`` under it; nothing without a title."""
    if not title:
        return []
    out = [f'<text class="title" x="{PAD}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, line in enumerate(lines):
        out.append(f'<text class="summary" x="{PAD}" y="{20 + LINE * (i + 1)}" fill="#333333">'
                   f"{escape(line)}</text>")
    return out


def _heading_height(head: Sequence[str]) -> int:
    return 14 + LINE * len(head) if head else 0


def _no_plot(probe: Mapping[str, Any], title: str | None, width: int, height: int) -> str:
    """A frame the size of the plot that says why there is none: the probe was skipped, or no curve."""
    if probe.get("verdict") == "skipped":
        message = "Probe skipped" + (f": {probe['reason']}" if probe.get("reason") else "")
    else:
        message = "No loss curve in the probe's evidence"
    head = _heading(title, [])
    top = TOP + _heading_height(head)
    height += top - TOP
    lines = textwrap.wrap(message, max(20, int((width - LEFT - RIGHT) / (CHAR * 13 / 11)))) or [message]
    mid = top + (height - top - BOTTOM) / 2 - (len(lines) - 1) * 9
    return "\n".join([
        *_open(width, height, title or message, message if title else ""), *head,
        f'<rect x="{LEFT}" y="{top}" width="{width - LEFT - RIGHT}" height="{height - top - BOTTOM}" '
        f'fill="#ffffff" stroke="#cccccc" stroke-dasharray="4 3"/>',
        *(f'<text class="skipped" x="{LEFT + (width - LEFT - RIGHT) / 2:.1f}" y="{mid + 18 * i:.1f}" '
          f'text-anchor="middle" font-size="13" fill="#555555">{escape(line)}</text>' for i, line in enumerate(lines)),
        "</svg>"])


def _polyline(values: Sequence[float | None], xs: Sequence[float], px: Any, py: Any, color: str, width: float,
              opacity: float, cls: str) -> list[str]:
    """One <path> per unbroken run of finite points (a lone point is drawn as a dot)."""
    out: list[str] = []
    run: list[tuple[float, float]] = []
    for x, v in list(zip(xs, values)) + [(None, None)]:
        if v is not None and x is not None:
            run.append((px(x), py(v)))
            continue
        if len(run) == 1:
            (cx, cy), = run
            out.append(f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="{width + 0.5}" fill="{color}" '
                       f'fill-opacity="{opacity}"/>')
        elif run:
            d = "M" + " L".join(f"{cx:.1f} {cy:.1f}" for cx, cy in run)
            out.append(f'<path class="{cls}" d="{d}" fill="none" stroke="{color}" stroke-width="{width}" '
                       f'stroke-opacity="{opacity}" stroke-linejoin="round"/>')
        run = []
    return out


def _failures(values: Sequence[float | None], xs: Sequence[float], px: Any, top: float, color: str,
              key: str) -> list[str]:
    """A cross at the top of the plot where a curve first turns non-finite after finite points."""
    seen = False
    for x, v in zip(xs, values):
        if v is None and seen:
            return [f'<text class="failure {key}" x="{px(x):.1f}" y="{top + 12}" text-anchor="middle" '
                    f'fill="{color}" font-size="14">\u00d7</text>']
        seen = seen or v is not None
    return []


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _mean(curves: list[list[float | None]]) -> list[float | None]:
    n = max(len(c) for c in curves)
    out: list[float | None] = []
    for i in range(n):
        col = [c[i] if i < len(c) else None for c in curves]
        out.append(None if any(v is None for v in col) else sum(col) / len(col))  # type: ignore[arg-type]
    return out


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _nice_range(lo: float, hi: float) -> tuple[float, float]:
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo)
    lo2 = math.floor(lo / step) * step
    if 0 <= lo < step * 2 and lo2 < 0:
        lo2 = 0.0
    return (max(lo2, 0.0) if lo >= 0 else lo2), math.ceil(hi / step) * step


def _ticks(lo: float, hi: float, integer: bool = False) -> list[float]:
    step = _nice_step(hi - lo)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    out, t = [], first
    while t <= hi + step * 1e-9 and len(out) < 20:
        out.append(round(t, 12))
        t += step
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.1e}"
    if float(v).is_integer():
        return f"{int(v):,}" if a >= 1e4 else str(int(v))
    return f"{v:.3g}"


def _fmt_or_failed(v: float | None, variant: Mapping[str, Any]) -> str:
    if v is not None:
        return _fmt(v)
    return "NaN (training failed)" if variant.get("failed") else "n/a"
