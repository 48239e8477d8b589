"""Held-out loss curves of a probe as an inline SVG: as-is against fixed, each seed and their mean.

Reads the probe evidence dict (``as_is`` / ``fixed`` with ``curve``, the mean over seeds, and
``curves``, one list per seed; ``curve_steps`` for the x axis). A missing value (the loss became
NaN or inf) breaks the line and is marked with a cross. Losses spanning more than
``LOG_SPAN`` use a log axis. Pure string building: no plotting library, no torch.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Mapping, Sequence

W, H = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 52
COLORS = {"as_is": "#d62728", "fixed": "#1f77b4"}
LABELS = {"as_is": "as-is", "fixed": "fixed"}
LOG_SPAN = 50.0  # max/min ratio above which the y axis is logarithmic


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


def loss_curves_svg(probe: Mapping[str, Any], *, width: int = W, height: int = H) -> str:
    """The plot, or '' when the evidence holds no curve."""
    variants = {k: series(probe.get(k)) for k in ("as_is", "fixed")}
    lengths = [len(m) for m, _ in variants.values()] + [len(c) for _, s in variants.values() for c in s]
    n = max(lengths, default=0)
    values = [v for m, s in variants.values() for c in [m, *s] for v in c if v is not None]
    if n == 0 or not values:
        return ""
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

    pw, ph = width - LEFT - RIGHT, height - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        t = math.log10(v) if log else v
        return TOP + ph - (t - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="pf-plot" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(_caption(probe, loss_name))}</title>",
           f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#ffffff" stroke="#888888"/>']
    # y ticks and grid
    for t in (range(int(y0), int(y1) + 1) if log else _ticks(y0, y1)):
        y = TOP + ph - (t - y0) / (y1 - y0) * ph
        label = _fmt(10.0 ** t) if log else _fmt(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    # x ticks
    for t in _ticks(x0, x1, integer=True):
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{TOP + ph}" x2="{x:.1f}" y2="{TOP + ph + 4}" stroke="#888888"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle">{escape(_fmt(t))}</text>')
    out.append(f'<text class="x-label" x="{LEFT + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">'
               f"{escape(x_label)}</text>")
    out.append(f'<text class="y-label" transform="translate(16 {TOP + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    # curves: seeds thin, mean thick, as-is first so fixed draws on top
    for key in ("as_is", "fixed"):
        mean, seeds = variants[key]
        color = COLORS[key]
        for i, c in enumerate(seeds):
            out += _polyline(c, xs, px, py, color, 1.0, 0.45, f"curve {key} seed seed-{i}")
        if mean:
            out += _polyline(mean, xs, px, py, color, 2.5, 1.0, f"curve {key} mean")
            out += _failures(mean, xs, px, color, key)
    # legend
    lx, ly = LEFT + pw - 150, TOP + 10
    out.append(f'<rect x="{lx - 8}" y="{ly - 8}" width="152" height="50" fill="#ffffff" fill-opacity="0.85" '
               f'stroke="#cccccc"/>')
    for i, key in enumerate(("as_is", "fixed")):
        _, seeds = variants[key]
        y = ly + 6 + i * 16
        note = f" (mean of {len(seeds)} seeds)" if len(seeds) > 1 else ""
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 22}" y2="{y}" stroke="{COLORS[key]}" stroke-width="2.5"/>')
        out.append(f'<text x="{lx + 28}" y="{y + 4}">{escape(LABELS[key] + note)}</text>')
    out.append(f'<text x="{lx}" y="{ly + 40}" fill="#555555">thin lines: each seed</text>')
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

def _caption(probe: Mapping[str, Any], loss_name: str) -> str:
    return f"Held-out {loss_name} per step, as-is against fixed. {gap_sentence(probe)}".strip()


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


def _failures(values: Sequence[float | None], xs: Sequence[float], px: Any, color: str, key: str) -> list[str]:
    """A cross at the top of the plot where a curve first turns non-finite after finite points."""
    seen = False
    for x, v in zip(xs, values):
        if v is None and seen:
            return [f'<text class="failure {key}" x="{px(x):.1f}" y="{TOP + 12}" text-anchor="middle" '
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
