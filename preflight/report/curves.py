"""Held-out loss curves of a probe as SVG: as-is against fixed, each seed and their mean.

Reads the probe ``Evidence`` (each ``Variant``'s ``curve``, the mean over seeds, and ``curves``, one
per seed; ``curve_steps`` for the x axis). A missing value (the loss became NaN or inf) breaks the
line and is marked with a cross, which the legend explains. Losses spanning more than ``LOG_SPAN``
use a log axis. Pure string building: no plotting library, no torch. The words (caption, heading)
come from ``preflight.report.evidence``.

The same SVG is inlined by the HTML report and written to a file by ``preflight probe --plot``:
a well-formed SVG 1.1 document with its namespace, no scripts, no external fonts or stylesheets,
every text escaped. Given a ``title`` it is a standalone figure: the title heads it, with the
verdict, the gap in words and the setup under it (the HTML report prints those beside the plot).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from preflight.findings import Evidence, Variant, finite
from preflight.report.evidence import fmt_number as _fmt
from preflight.report.evidence import gap_sentence, heading_parts, no_plot_words

W, H = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 52
COLORS = {"as_is": "#d62728", "fixed": "#1f77b4"}
LABELS = {"as_is": "as-is", "fixed": "fixed"}
LOG_SPAN = 50.0  # max/min ratio above which the y axis is logarithmic
PAD = 12  # left edge of the heading lines
LINE = 15  # px per line of the heading's text
CHAR = 6.3  # px per character of 11px sans-serif, a generous average, to wrap the heading's lines

Series = tuple[list["float | None"], list[list["float | None"]]]


def series(variant: Variant | None) -> Series:
    """(mean curve, per-seed curves) of one variant; either may be empty."""
    if variant is None:
        return [], []
    seeds = [list(c) for c in variant.curves]
    mean = list(variant.curve)
    if not mean and seeds:
        mean = _mean(seeds)
    return mean, seeds


def has_curves(probe: Evidence) -> bool:
    """Whether ``loss_curves_svg`` draws curves: the probe ran and its evidence holds a finite loss."""
    return not probe.skipped and any(v is not None for m, s in _variants(probe).values() for c in [m, *s] for v in c)


@dataclass(frozen=True)
class _Frame:
    """The plot's box and scales: data (x, loss) to pixels."""

    xs: list[float]
    x0: float
    x1: float
    y0: float
    y1: float
    log: bool
    top: float
    pw: float
    ph: float

    def px(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * self.pw

    def py(self, v: float) -> float:
        t = math.log10(v) if self.log else v
        return self.top + self.ph - (t - self.y0) / (self.y1 - self.y0) * self.ph


def loss_curves_svg(probe: Evidence, *, title: str | None = None, width: int = W, height: int = H) -> str:
    """The plot of ``probe`` as an SVG document string.

    ``width`` x ``height`` is the plot; a ``title`` adds a heading band above it (the title, then the
    verdict, the gap and the setup in words), and the document is that much taller. A skipped probe,
    or evidence without a curve, gives a frame of the same size that says so (see ``has_curves``).
    """
    variants = _variants(probe)
    values = [v for m, s in variants.values() for c in [m, *s] for v in c if v is not None]
    if probe.skipped or not values:
        return _no_plot(probe, title, width, height)
    xs, x_label = _x_axis(probe, variants)
    # PF503's evidence counts memory kept, not a held-out loss
    loss_name = (probe.loss or "memory") if probe.judged_on == "memory" else f"held-out {probe.loss or 'loss'}"
    head = _heading(title, _pack(heading_parts(probe), width) if title else [])
    top = TOP + _heading_height(head)
    height += top - TOP
    frame = _frame(xs, min(values), max(values), top, width - LEFT - RIGHT, height - top - BOTTOM)
    y_label = f"{loss_name}" + (" (log scale)" if frame.log else "")
    caption = f"{loss_name[:1].upper()}{loss_name[1:]} per step, as-is against fixed. {gap_sentence(probe)}".strip()
    out = [*_open(width, height, title or caption, caption if title else ""), *head,
           f'<rect x="{LEFT}" y="{top}" width="{frame.pw}" height="{frame.ph}" fill="#ffffff" stroke="#888888"/>']
    out += _axes(frame, height, x_label, y_label)
    curves, crosses = _curves(frame, variants)
    out += curves + crosses
    out += _legend(frame, variants, bool(crosses))
    out.append("</svg>")
    return "\n".join(out)


def _x_axis(probe: Evidence, variants: dict[str, Series]) -> tuple[list[float], str]:
    """The x of each evaluation: the training step when the evidence says, else its index."""
    lengths = [len(m) for m, _ in variants.values()] + [len(c) for _, s in variants.values() for c in s]
    n = max(lengths, default=0)
    steps = probe.curve_steps
    if steps is not None and len(steps) == n and all(finite(x) is not None for x in steps):
        return [float(x) for x in steps], "training step"
    return [float(i + 1) for i in range(n)], "evaluation point"


def _frame(xs: list[float], lo: float, hi: float, top: float, pw: float, ph: float) -> _Frame:
    log = lo > 0 and hi / lo > LOG_SPAN
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x1 = x0 + 1
    if log:
        y0, y1 = float(math.floor(math.log10(lo))), float(math.ceil(math.log10(hi)))
        if y1 == y0:
            y1 += 1
    else:
        y0, y1 = _nice_range(lo, hi)
    return _Frame(xs, x0, x1, y0, y1, log, top, pw, ph)


def _axes(fr: _Frame, height: int, x_label: str, y_label: str) -> list[str]:
    """Ticks, grid lines and the axis labels."""
    out = []
    top, pw, ph = fr.top, fr.pw, fr.ph
    for t in (range(int(fr.y0), int(fr.y1) + 1) if fr.log else _ticks(fr.y0, fr.y1)):
        y = top + ph - (t - fr.y0) / (fr.y1 - fr.y0) * ph
        label = _fmt(10.0 ** t) if fr.log else _fmt(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    for t in _ticks(fr.x0, fr.x1, integer=True):
        x = fr.px(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#888888"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{escape(_fmt(t))}</text>')
    out.append(f'<text class="x-label" x="{LEFT + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">'
               f"{escape(x_label)}</text>")
    out.append(f'<text class="y-label" transform="translate(16 {top + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    return out


def _curves(fr: _Frame, variants: dict[str, Series]) -> tuple[list[str], list[str]]:
    """Seeds thin, mean thick, as-is first so fixed draws on top; and the failure crosses."""
    out: list[str] = []
    crosses: list[str] = []
    for key in ("as_is", "fixed"):
        mean, seeds = variants[key]
        color = COLORS[key]
        for i, c in enumerate(seeds):
            out += _polyline(c, fr.xs, fr.px, fr.py, color, 1.0, 0.45, f"curve {key} seed seed-{i}")
        if mean:
            out += _polyline(mean, fr.xs, fr.px, fr.py, color, 2.5, 1.0, f"curve {key} mean")
            crosses += _failures(mean, fr.xs, fr.px, fr.top, color, key)
    return out, crosses


def _legend(fr: _Frame, variants: dict[str, Series], crosses: bool) -> list[str]:
    lx, ly = LEFT + fr.pw - 150, fr.top + 10
    out = [f'<rect x="{lx - 8}" y="{ly - 8}" width="152" height="{66 if crosses else 50}" fill="#ffffff" '
           f'fill-opacity="0.85" stroke="#cccccc"/>']
    for i, key in enumerate(("as_is", "fixed")):
        _, seeds = variants[key]
        y = ly + 6 + i * 16
        note = f" (mean of {len(seeds)} seeds)" if len(seeds) > 1 else ""
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 22}" y2="{y}" stroke="{COLORS[key]}" stroke-width="2.5"/>')
        out.append(f'<text x="{lx + 28}" y="{y + 4}">{escape(LABELS[key] + note)}</text>')
    out.append(f'<text x="{lx}" y="{ly + 40}" fill="#555555">thin lines: each seed</text>')
    if crosses:
        out.append(f'<text x="{lx}" y="{ly + 56}" fill="#555555">\u00d7 training failed (NaN/inf)</text>')
    return out


# --- helpers ------------------------------------------------------------------------------

def _variants(probe: Evidence) -> dict[str, Series]:
    return {"as_is": series(probe.as_is), "fixed": series(probe.fixed)}


def _open(width: int, height: int, title: str, desc: str = "") -> list[str]:
    """The document's start: namespace, size, accessible name (and description), white background."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="pf-plot" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
            f"<title>{escape(title)}</title>",
            *([f"<desc>{escape(desc)}</desc>"] if desc else []),
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>']


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


def _no_plot(probe: Evidence, title: str | None, width: int, height: int) -> str:
    """A frame the size of the plot that says why there is none: the probe was skipped, or no curve."""
    message = no_plot_words(probe)
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


def _polyline(values: Sequence[float | None], xs: Sequence[float], px: Callable[[float], float],
              py: Callable[[float], float], color: str, width: float, opacity: float, cls: str) -> list[str]:
    """One <path> per unbroken run of finite points (a lone point is drawn as a dot)."""
    out: list[str] = []
    run: list[tuple[float, float]] = []
    for x, v in [*zip(xs, values), (None, None)]:
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


def _failures(values: Sequence[float | None], xs: Sequence[float], px: Callable[[float], float], top: float,
              color: str, key: str) -> list[str]:
    """A cross at the top of the plot where a curve first turns non-finite after finite points."""
    seen = False
    for x, v in zip(xs, values):
        if v is None and seen:
            return [f'<text class="failure {key}" x="{px(x):.1f}" y="{top + 12}" text-anchor="middle" '
                    f'fill="{color}" font-size="14">\u00d7</text>']
        seen = seen or v is not None
    return []


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
    out: list[float] = []
    t = first
    while t <= hi + step * 1e-9 and len(out) < 20:
        out.append(round(t, 12))
        t += step
    return out
