"""Held-out loss curves of a probe as SVG: as-is against fixed, each seed and their mean.

Reads the probe ``Evidence`` (each ``Variant``'s ``curve``, the mean over seeds, and ``curves``, one
per seed; ``curve_steps`` for the x axis). A missing value (the loss became NaN or inf) breaks the
line and is marked with a cross, which the legend explains. Losses spanning more than ``LOG_SPAN``
use a log axis. A mean curve of at most ``MARKERS_MAX`` evaluations has a dot on each, so one
evaluation's spike reads as a measurement, not a drawing artefact. The legend sits above the plot
box, outside it, so it never hides a curve, and says what each variant is (``Variant.setup``, the
fix as the probe applied it: "rows shuffled every epoch", "logits + BCEWithLogitsLoss"). Pure
string building: no plotting library, no torch. The words (caption, heading) come from
``preflight.report.evidence``.

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
MARKERS_MAX = 12  # a mean curve of at most this many evaluations gets a dot on each
SWATCH = 28  # px from a legend entry's start to its text (the line sample before it)
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
    """The plot's box and scales: data (x, loss) to pixels, and the y ticks (in axis units: the value,
    or its log10 on a log axis) at both ends of the axis and between."""

    xs: list[float]
    x0: float
    x1: float
    y0: float
    y1: float
    log: bool
    top: float
    pw: float
    ph: float
    yticks: tuple[float, ...] = ()

    def px(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * self.pw

    def py(self, v: float) -> float:
        t = math.log10(v) if self.log else v
        return self.top + self.ph - (t - self.y0) / (self.y1 - self.y0) * self.ph


KeyRow = list[tuple["str | None", str]]  # a legend row: (variant key, "" for a continuation, None for a note; text)


def loss_curves_svg(probe: Evidence, *, title: str | None = None, width: int = W, height: int = H,
                    fix: str = "") -> str:
    """The plot of ``probe`` as an SVG document string.

    ``width`` x ``height`` is the plot; a ``title`` adds a heading band above it (the title, then the
    verdict, the gap and the setup in words), and the legend a band of its own between them and the
    plot; the document is that much taller. ``fix`` names the fixed variant when the evidence does
    not (``Variant.setup`` absent, as in hand-written evidence). A skipped probe, or evidence without
    a curve, gives a frame of the same size that says so (see ``has_curves``).
    """
    variants = _variants(probe)
    values = [v for m, s in variants.values() for c in [m, *s] for v in c if v is not None]
    if probe.skipped or not values:
        return _no_plot(probe, title, width, height)
    xs, x_label = _x_axis(probe, variants)
    # PF503's evidence counts memory kept, not a held-out loss
    loss_name = (probe.loss or "memory") if probe.judged_on == "memory" else f"held-out {probe.loss or 'loss'}"
    head = _heading(title, _pack(heading_parts(probe), width) if title else [])
    described = _described(probe, fix)
    markers = len(xs) <= MARKERS_MAX
    crosses = any(_fails_at(variants[k][0]) is not None for k in variants)
    rows = _key_rows(described, variants, width, markers, crosses)
    key_y = _heading_height(head) + 16  # the legend's first baseline
    top = key_y + LINE * (len(rows) - 1) + 14
    height += top - TOP
    frame = _frame(xs, min(values), max(values), top, width - LEFT - RIGHT, height - top - BOTTOM)
    y_label = f"{loss_name}" + (" (log scale)" if frame.log else "")
    caption = " ".join(p for p in (f"{loss_name[:1].upper()}{loss_name[1:]} per step, as-is against fixed.",
                                   _described_sentence(described), gap_sentence(probe)) if p)
    out = [*_open(width, height, title or caption, caption if title else ""), *head,
           f'<rect class="plot-box" x="{LEFT}" y="{top}" width="{frame.pw}" height="{frame.ph}" fill="#ffffff" '
           f'stroke="#888888"/>']
    out += _axes(frame, height, x_label, y_label)
    out += _curves(frame, variants, markers)
    out += _legend(rows, key_y, markers)
    out.append("</svg>")
    return "\n".join(out)


def _described(probe: Evidence, fix: str) -> dict[str, str]:
    """What each variant is, as the probe's evidence says (``setup``); ``fix`` names the fixed one otherwise."""
    a, f = probe.as_is, probe.fixed
    return {"as_is": (a.setup if a is not None and a.setup else ""),
            "fixed": (f.setup if f is not None and f.setup else fix)}


def _described_sentence(described: dict[str, str]) -> str:
    said = "; ".join(f"{LABELS[k]}: {v}" for k, v in described.items() if v)
    return f"{said[:1].upper()}{said[1:]}." if said else ""


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
        y0, y1 = math.log10(_nice_log(lo, down=True)), math.log10(_nice_log(hi, down=False))
        # each decade and both ends (a 1, 2 or 5 x 10^k), so a reader can read the lowest loss off the axis
        ticks = sorted({round(t, 9) for t in (y0, y1, *range(math.ceil(y0 - 1e-9), math.floor(y1 + 1e-9) + 1))})
    else:
        y0, y1, step = _nice_range(lo, hi)
        ticks = [round(y0 + i * step, 12) for i in range(round((y1 - y0) / step) + 1)]
    return _Frame(xs, x0, x1, y0, y1, log, top, pw, ph, tuple(ticks))


def _axes(fr: _Frame, height: int, x_label: str, y_label: str) -> list[str]:
    """Ticks, grid lines and the axis labels."""
    out = []
    top, pw, ph = fr.top, fr.pw, fr.ph
    for t in fr.yticks:
        y = top + ph - (t - fr.y0) / (fr.y1 - fr.y0) * ph
        label = _fmt(round(10.0 ** t, 12)) if fr.log else _fmt(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text class="y-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    for t in _ticks(fr.x0, fr.x1, integer=True):
        x = fr.px(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#888888"/>')
        out.append(f'<text class="x-tick" x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">'
                   f"{escape(_fmt(t))}</text>")
    out.append(f'<text class="x-label" x="{LEFT + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">'
               f"{escape(x_label)}</text>")
    out.append(f'<text class="y-label" transform="translate(16 {top + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    return out


def _curves(fr: _Frame, variants: dict[str, Series], markers: bool) -> list[str]:
    """Seeds thin, mean thick, as-is first so fixed draws on top; a dot on each evaluation of a short
    mean curve; then the failure crosses, above every line."""
    out: list[str] = []
    crosses: list[str] = []
    for key in ("as_is", "fixed"):
        mean, seeds = variants[key]
        color = COLORS[key]
        for i, c in enumerate(seeds):
            out += _polyline(c, fr.xs, fr.px, fr.py, color, 1.0, 0.45, f"curve {key} seed seed-{i}")
        if mean:
            out += _polyline(mean, fr.xs, fr.px, fr.py, color, 2.5, 1.0, f"curve {key} mean")
            if markers:
                out += [f'<circle class="marker {key}" cx="{fr.px(x):.1f}" cy="{fr.py(v):.1f}" r="3.5" '
                        f'fill="{color}" stroke="#ffffff" stroke-width="1"/>'
                        for x, v in zip(fr.xs, mean) if v is not None]
            crosses += _failures(mean, fr.xs, fr.px, fr.top, color, key)
    return out + crosses


def _key_rows(described: dict[str, str], variants: dict[str, Series], width: int, markers: bool,
              crosses: bool) -> list[KeyRow]:
    """The legend's rows: each variant and what it is (on one row when both fit, else a row each,
    wrapped), then a note on what the thin lines, dots and crosses are."""
    most = int((width - LEFT - RIGHT - SWATCH) / CHAR)  # characters after a line sample
    entries = [(key, f"{LABELS[key]}: {text}" if text else LABELS[key]) for key, text in described.items()]
    rows: list[KeyRow]
    if sum(len(t) for _, t in entries) + (SWATCH + 24) / CHAR <= most:
        rows = [list(entries)]
    else:
        rows = []
        for key, text in entries:
            first, *rest = textwrap.wrap(text, most) or [text]
            rows.append([(key, first)])
            rows += [[("", line)] for line in rest]
    n_seeds = max((len(s) for _, s in variants.values()), default=0)
    note = [f"thick lines: mean of {n_seeds} seeds, thin lines: each seed"] if n_seeds > 1 else []
    note += ["dots: each evaluation"] * markers + ["\u00d7 training failed (NaN/inf)"] * crosses
    rows += [[(None, line)] for line in _pack(note, width - LEFT - RIGHT + 2 * PAD)]  # broken between parts
    return rows


def _legend(rows: Sequence[KeyRow], y0: float, markers: bool) -> list[str]:
    """The legend's rows from baseline ``y0``, left-aligned with the plot box, above it."""
    out = []
    for r, row in enumerate(rows):
        y, x = y0 + LINE * r, float(LEFT)
        for key, text in row:
            if key is None:
                out.append(f'<text class="key note" x="{x:.1f}" y="{y}" fill="#555555">{escape(text)}</text>')
                continue
            if key:
                mid = y - 4
                out.append(f'<line class="key {key}" x1="{x:.1f}" y1="{mid}" x2="{x + 22:.1f}" y2="{mid}" '
                           f'stroke="{COLORS[key]}" stroke-width="2.5"/>')
                if markers:
                    out.append(f'<circle class="key {key}" cx="{x + 11:.1f}" cy="{mid}" r="3.5" '
                               f'fill="{COLORS[key]}" stroke="#ffffff" stroke-width="1"/>')
            out.append(f'<text class="key {key or "more"}" x="{x + SWATCH:.1f}" y="{y}">{escape(text)}</text>')
            x += SWATCH + len(text) * CHAR + 24
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
    at = _fails_at(values)
    if at is None or at >= len(xs):
        return []
    return [f'<text class="failure {key}" x="{px(xs[at]):.1f}" y="{top + 12}" text-anchor="middle" '
            f'fill="{color}" font-size="14">\u00d7</text>']


def _fails_at(values: Sequence[float | None]) -> int | None:
    """The index where ``values`` first turns non-finite after finite points, or None."""
    seen = False
    for i, v in enumerate(values):
        if v is None and seen:
            return i
        seen = seen or v is not None
    return None


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


def _nice_range(lo: float, hi: float) -> tuple[float, float, float]:
    """A linear axis: (bottom, top, tick step), both ends on a tick, never below 0 for values >= 0."""
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo)
    lo2 = math.floor(lo / step + 1e-9) * step
    if lo >= 0:
        lo2 = max(lo2, 0.0)
    return lo2, max(math.ceil(hi / step - 1e-9) * step, lo2 + step), step


def _nice_log(v: float, down: bool) -> float:
    """The nearest 1, 2 or 5 x 10^k below (``down``) or above ``v`` > 0: a log axis's end."""
    k = math.floor(math.log10(v))
    steps = [m * 10.0 ** e for e in (k - 1, k, k + 1) for m in (1, 2, 5)]
    return max(s for s in steps if s <= v * (1 + 1e-9)) if down else min(s for s in steps if s >= v * (1 - 1e-9))


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
