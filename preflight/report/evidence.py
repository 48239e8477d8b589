"""One place turns probe ``Evidence`` into words: the one-line summary (text, ``preflight probe``),
the gap sentence, the setup and the notes (HTML, the SVG heading). Every renderer reads them here.

Pure string building from the value; no torch, and numpy only inside ``sparkline``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from preflight.findings import SKIPPED, Evidence, Variant

SPARKS = "▁▂▃▄▅▆▇█"
VERDICT_WORDS = {"confirmed": "confirmed", "not_reproduced": "not reproduced", "skipped": "skipped"}
SIDES = {"as_is": "as-is", "fixed": "fixed"}


# --- the one line ---------------------------------------------------------------------------------

TRAINER_WORDS = {"numpy": "NumPy", "torch": "torch"}  # Evidence.trainer, as the text says it


def render_line(ev: Evidence) -> str:
    """One line: verdict, model, steps, seeds, held-out loss and metric as-is -> fixed, sparklines."""
    if ev.skipped:
        return f"skipped: {ev.reason}"
    a, f = ev.as_is or Variant(), ev.fixed or Variant()
    gap = ev.gap
    ratio = gap.ratio if gap is not None else None
    ratio_s = f" ({ratio:.2g}x)" if ratio is not None else (" (as-is failed)" if a.failed else "")
    reach_s = _reach_short(ev)
    r2 = ev.metric == "r2"
    mname = {"r2": "R^2", "balanced_accuracy": "balanced acc"}.get(ev.metric, "acc")

    def m(v: Variant) -> str:
        x = v.score
        return "NaN" if x is None else (f"{x:.2f}" if r2 else f"{x:.0%}")

    curve_a, curve_f = _log_if_wide(a.curve, f.curve)
    finite = [v for v in curve_a + curve_f if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (None, None)
    where = "reference data" if ev.data == "reference" else f"{(ev.rows or {}).get('train', '?')} rows"
    if ev.trainer is not None:
        where += f", trained with {TRAINER_WORDS.get(ev.trainer, ev.trainer)}"
    return (f"{ev.verdict}{panel_words(ev)}: {ev.model or 'MLP'}, {ev.steps} steps x {ev.seeds} seeds "
            f"on {where}; {_compared_words(ev)} {_short(a.best)} -> {_short(f.best)}"
            f"{ratio_s}, {mname} {m(a)} -> {m(f)}; {reach_s}"
            f"as-is {sparkline(curve_a, lo=lo, hi=hi)} fixed {sparkline(curve_f, lo=lo, hi=hi)}")


def render_verdict(ev: Evidence) -> str:
    """The verdict in a few words: "confirmed, best held-out BCE 0.656 -> 0.107" (the full line is
    ``render_line``'s)."""
    if ev.skipped:
        return f"skipped: {ev.reason}"
    a, f = ev.as_is or Variant(), ev.fixed or Variant()
    return f"{verdict_word(ev)}, {_compared_words(ev)} {_or_failed(a.best, a)} -> {_or_failed(f.best, f)}"


def _compared_words(ev: Evidence, key: str = "best") -> str:
    """What is compared: the ``key`` ("best", "final") held-out loss, or (``judged_on`` "memory", PF503)
    the memory kept after the last step."""
    if ev.judged_on == "memory":
        return f"{ev.loss} after the last step"
    return f"{key} held-out {ev.loss or 'loss'}"


def panel_words(ev: Evidence) -> str:
    """Which setups of the panel showed the gap, in parentheses ("" for evidence without a panel)."""
    if not ev.panel:
        return ""
    n = len(ev.panel)
    if not ev.shown_by:
        return f" (no gap in any of {n} setups: {', '.join(p.name for p in ev.panel)})"
    at = {p.name: p.gap_at for p in ev.panel}
    # a setup's name alone: the gap held at the best checkpoint and after the last step
    said = ", ".join(name + ("" if set(at.get(name, ())) >= {"best", "last"} else
                             f" ({'/'.join(at.get(name, ()))} only)") for name in ev.shown_by)
    return f" (gap in {len(ev.shown_by)} of {n} setups: {said})"


def _reach_short(ev: Evidence) -> str:
    """"as-is reaches it at step N; ", "as-is never reaches it; " (only when no as-is seed ever did), or ""."""
    gap = ev.gap
    if gap is None:
        return ""
    if gap.as_is_reaches_fixed_at is not None:
        return f"as-is reaches it at step {gap.as_is_reaches_fixed_at}; "
    return "as-is never reaches it; " if gap.never_reached else ""


def sparkline(values: Sequence[float | None], width: int = 16, lo: float | None = None,
              hi: float | None = None) -> str:
    """Unicode sparkline of ``values`` resampled to ``width`` cells; '×' marks a missing (NaN) value."""
    vals = list(values)
    if not vals:
        return ""
    if len(vals) > width:
        import numpy as np

        picks = np.linspace(0, len(vals) - 1, width).round().astype(int)
        vals = [vals[i] for i in picks]
    finite = [v for v in vals if v is not None and math.isfinite(v)]
    if not finite:
        return "×" * len(vals)
    lo = min(finite) if lo is None else lo
    hi = max(finite) if hi is None else hi
    span = hi - lo
    out = []
    for v in vals:
        if v is None or not math.isfinite(v):
            out.append("×")
        elif span <= 0:
            out.append(SPARKS[0])
        else:
            i = int(round((min(max(v, lo), hi) - lo) / span * (len(SPARKS) - 1)))  # noqa: RUF046 - numpy 1.x rounds to a float
            out.append(SPARKS[i])
    return "".join(out)


def _short(v: float | None) -> str:
    if v is None:
        return "NaN"
    if v == 0:
        return "0"
    if abs(v) >= 100 or abs(v) < 0.001:
        return f"{v:.2e}"
    return f"{v:.3g}"


def _log_if_wide(*curves: Sequence[float | None]) -> list[list[float | None]]:
    """The curves on a log10 scale when they are positive and span more than a factor of 10."""
    vals = [v for c in curves for v in c if v is not None and math.isfinite(v)]
    if vals and min(vals) > 0 and max(vals) / min(vals) > 10:
        return [[math.log10(v) if v is not None and v > 0 else None for v in c] for c in curves]
    return [list(c) for c in curves]


# --- the gap in words -----------------------------------------------------------------------------

def gap_sentence(ev: Evidence) -> str:
    """The measured gap in words: losses, ratio, metric, and when (if ever) as-is catches up."""
    if ev.as_is is None or ev.fixed is None:
        return ""
    key = _compared(ev)
    parts = [_loss_part(ev, key), _metric_part(ev), _reach_part(ev, key)]
    return "; ".join(p for p in parts if p)


def _compared(ev: Evidence) -> str:
    """Which losses the gap compares, as the probe states: the best (early stopping) or the final."""
    best = ev.gap is not None and "best" in str(ev.gap.compares or "") and ev.as_is is not None \
        and ev.as_is.best is not None
    return "best" if best else "final"


def _loss_part(ev: Evidence, key: str) -> str:
    a, f = ev.as_is or Variant(), ev.fixed or Variant()
    fa, ff = (a.best, f.best) if key == "best" else (a.final, f.final)
    if fa is None and ff is None:
        return ""
    s = f"{_compared_words(ev, key)} {_or_failed(fa, a)} as-is, {_or_failed(ff, f)} fixed"
    ratio = ev.gap.ratio if ev.gap is not None else None
    diff = ev.gap.difference if ev.gap is not None else None
    if ratio is None and fa and ff is not None and fa > 0:
        ratio = ff / fa
    if diff is None and fa is not None and ff is not None:
        diff = fa - ff
    extras = ([f"fixed/as-is = {fmt_ratio(ratio)}"] if ratio is not None else []) + (
        [f"gap {fmt_number(diff)}"] if diff is not None else [])
    return s + (f" ({', '.join(extras)})" if extras else "")


def _metric_part(ev: Evidence) -> str:
    ma, mf = (ev.as_is or Variant()).score, (ev.fixed or Variant()).score
    if ma is None or mf is None:
        return ""
    if ev.metric in ("accuracy", "balanced_accuracy"):
        return f"{ev.metric.replace('_', ' ')} {ma:.0%} as-is, {mf:.0%} fixed"
    return f"{ev.metric} {ma:.3f} as-is, {mf:.3f} fixed"


def _reach_part(ev: Evidence, key: str) -> str:
    if ev.gap is None:
        return ""
    reach = ev.gap.as_is_reaches_fixed_at
    if reach is not None:
        return f"as-is reaches the fixed {key} loss at step {reach}"
    if not ev.gap.never_reached:
        return ""
    return f"as-is never reaches the fixed {key} loss" + (f" in {ev.steps} steps" if ev.steps else "")


def fmt_number(v: float) -> str:
    """A number for a reader (axis ticks, the gap): 3 significant digits, scientific when tiny or huge."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.1e}"
    if float(v).is_integer():
        return f"{int(v):,}" if a >= 1e4 else str(int(v))
    return f"{v:.3g}"


def fmt_ratio(r: float) -> str:
    """fixed/as-is for a reader: two decimals ("0.16", "1.03"), two significant digits below 0.01
    ("0.0036", not "0.00"), and "0" for nothing at all (PF503's memory kept by the fixed loop)."""
    if r == 0:
        return "0"
    return f"{r:.2f}" if abs(r) >= 0.01 else f"{r:.2g}"


def _or_failed(v: float | None, variant: Variant) -> str:
    if v is not None:
        return fmt_number(v)
    return "NaN (training failed)" if variant.failed else "n/a"


# --- verdict, setup, failures, notes --------------------------------------------------------------

def verdict_word(ev: Evidence | None) -> str:
    """"not run", "confirmed", "not reproduced", "skipped"."""
    if ev is None:
        return "not run"
    return VERDICT_WORDS.get(ev.verdict, ev.verdict.replace("_", " "))


def failures(ev: Evidence) -> list[tuple[str, str]]:
    """(side, why) for each variant whose training failed, side "as-is" or "fixed"."""
    sides = (("as_is", ev.as_is), ("fixed", ev.fixed))
    return [(SIDES[k], v.failure) for k, v in sides if v is not None and v.failure]


def setup_words(ev: Evidence) -> str:
    """The model, steps, seeds, rows, data, time and each variant's setup, joined by '; '."""
    bits = []
    if ev.model:
        bits.append(ev.model)
    if ev.steps is not None:
        bits.append(f"{ev.steps} steps")
    if ev.seeds is not None:
        bits.append(f"{ev.seeds} seeds")
    if ev.rows is not None:
        bits.append(", ".join(f"{v} {k} rows" for k, v in ev.rows.items()))
    if ev.data == "reference":
        bits.append("on preflight's reference data")
    if ev.seconds is not None:
        bits.append(f"{ev.seconds} s")
    if ev.trainer is not None:
        bits.append(f"trained with {TRAINER_WORDS.get(ev.trainer, ev.trainer)}")
    for key, v in (("as_is", ev.as_is), ("fixed", ev.fixed)):
        if v is not None and v.setup:
            bits.append(f"{SIDES[key]}: {v.setup}")
    if ev.panel:
        bits.append("panel: " + ", ".join(f"{p.name} = {p.optimizer}"
                                          + (f", gap at {'/'.join(p.gap_at)}" if p.gap_at else ", no gap")
                                          for p in ev.panel))
    return "; ".join(bits)


def heading_parts(ev: Evidence) -> list[str]:
    """A standalone plot's heading, in parts: verdict with the gap, the run, the model."""
    word = {"confirmed": "Probe confirmed", "not_reproduced": "Probe not reproduced"}.get(
        ev.verdict, f"Probe {ev.verdict}") if ev.verdict else ""
    parts = [p for p in gap_sentence(ev).split("; ") if p]
    if word:
        parts[:1] = [f"{word}: {parts[0]}" if parts else word]
    setup: list[str] = []
    if ev.seeds is not None and ev.steps is not None:
        setup.append(f"{ev.seeds} seeds x {ev.steps} steps")
    if ev.data == "reference":
        setup.append("on preflight's reference data")
    elif ev.rows is not None and ev.rows.get("train") is not None:
        setup.append(f"on {ev.rows['train']} training rows")
    if setup:
        parts.append(" ".join(setup))
    if ev.model:
        parts.append(ev.model)
    return parts


def no_plot_words(ev: Evidence) -> str:
    if ev.verdict == SKIPPED:
        return "Probe skipped" + (f": {ev.reason}" if ev.reason else "")
    return "No loss curve in the probe's evidence"
