"""Turning a fit into a verdict and an ``Evidence`` value (``preflight.findings``).

No torch here: a cache hit is judged without it. The words for evidence are
``preflight.report.evidence``'s.
The cache holds a training's ``Measurements`` (curves, failures, lengths), never a verdict: the
verdict is judged from them on every read, so a changed threshold applies to cached runs too.

Each setup of the panel (``preflight.probes.settings.PANEL``) is judged apart: it *shows the gap*
at a checkpoint (the best held-out evaluation, or the one after the last step) when, in every seed,
the fixed variant's held-out loss there is at most ``CONFIRM_RATIO`` times the as-is variant's and at
least ``MIN_DIFFERENCE`` lower, or the as-is run failed (its loss became NaN/inf) while the fixed one
did not. The verdict is ``confirmed`` when at least one setup shows the gap at either checkpoint,
``not_reproduced`` when none does; ``skipped`` when no probe ran. For a fix judged on its metric
(``Fix.judged_on == "metric"``: class weights, on balanced accuracy), the compared number is one
minus the metric instead of the held-out loss.
Non-finite numbers never reach JSON: they become ``null`` with ``failed: true`` and a reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from preflight.findings import SKIPPED, Evidence, Gap, Setup, Variant
from preflight.probes.settings import CONFIRM_RATIO, EARLY_EPOCHS, MIN_DIFFERENCE

CONFIRMED = "confirmed"
NOT_REPRODUCED = "not_reproduced"

LOSS_NAMES = {"bce_logits": "BCE", "ce_logits": "cross-entropy", "mse": "MSE"}
METRIC_ERRORS = {"balanced_accuracy": "balanced error"}  # 1 - balanced accuracy
OPTIMIZER_WORDS = {"adam": "Adam lr {lr:g}", "sgd": "SGD lr {lr:g} momentum 0.9"}


def num(x: Any, digits: int = 6) -> float | None:
    """A finite float rounded to ``digits`` significant digits, or None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    if v == 0:
        return 0.0
    return float(f"{v:.{digits}g}")


def skipped(reason: str, *, rule: str | None = None, family: str | None = None, data: str = "user") -> Evidence:
    return Evidence(SKIPPED, reason, rule=rule, family=family, data=data)


def best_index(curves: np.ndarray) -> np.ndarray:
    """Per model: the evaluation (after training began) with the lowest finite held-out loss, the
    checkpoint early stopping keeps; the last evaluation when none is finite."""
    k = curves.shape[1]
    after = curves[:, 1:] if k > 1 else curves
    safe = np.where(np.isfinite(after), after, np.inf)
    idx = safe.argmin(axis=1) + (1 if k > 1 else 0)
    none = ~np.isfinite(after).any(axis=1)
    return np.where(none, k - 1, idx)


def best_loss(curves: np.ndarray, first_bad: np.ndarray) -> np.ndarray:
    """Per model: the held-out loss of the best checkpoint; NaN for a run whose training loss ever
    became NaN/inf (it failed, whatever it scored before)."""
    best = curves[np.arange(len(curves)), best_index(curves)]
    return np.where((first_bad >= 0) | ~np.isfinite(best), np.nan, best)


def _variant(curves: np.ndarray, score_curves: np.ndarray, first_nonfinite: np.ndarray,
             metric: str, description: str) -> Variant:
    final = curves[:, -1]  # the held-out loss after the last step
    best = best_loss(curves, first_nonfinite)
    score = score_curves[np.arange(len(curves)), best_index(curves)]
    score = np.where(np.isfinite(best), score, np.nan)
    failed = bool((~np.isfinite(best)).any() or (first_nonfinite >= 0).any())
    with np.errstate(invalid="ignore"):
        mean_curve = curves.mean(axis=0)
    failure = None
    if failed:
        steps = [int(s) for s in first_nonfinite if s >= 0]
        if steps:
            failure = (f"training loss became NaN/inf at step {min(steps)} in "
                       f"{len(steps)} of {len(first_nonfinite)} seeds")
        else:
            failure = f"held-out loss is NaN/inf in {int((~np.isfinite(best)).sum())} of {len(best)} seeds"
    return Variant(
        setup=description,
        best=num(best.mean()) if np.isfinite(best).all() else None,
        final=num(final.mean()) if np.isfinite(final).all() else None,
        score=num(score.mean()) if np.isfinite(score).all() else None,
        per_seed={"best": tuple(num(v) for v in best), "final": tuple(num(v) for v in final),
                  metric: tuple(num(v) for v in score)},
        curve=tuple(num(v) for v in mean_curve),
        curves=tuple(tuple(num(v) for v in c) for c in curves),
        failed=failed, failure=failure)


@dataclass(frozen=True)
class Measurements:
    """What one training measured: everything ``build_evidence`` needs that the data and the
    settings do not already say. Arrays are per model, as-is seeds first, then fixed seeds."""

    eval_steps: np.ndarray  # (K,) step after which each held-out evaluation ran (0 = before training)
    curves: np.ndarray  # (M, K) held-out loss; NaN/inf where a run failed
    score_curves: np.ndarray  # (M, K) accuracy or R^2 at every evaluation
    first_nonfinite: np.ndarray  # (M,) first step whose training loss was NaN/inf, -1 if none
    steps: int
    batch: int
    epochs: int | None
    seconds: float
    trainer: str = "torch"  # "numpy" or "torch": which trainer ran (settings.TRAINERS)

    def to_json(self) -> dict[str, Any]:
        """Strict JSON (no NaN literals): a non-finite number is written as "nan", "inf" or "-inf"."""
        return {"eval_steps": [int(v) for v in self.eval_steps], "curves": _encode(self.curves),
                "score_curves": _encode(self.score_curves),
                "first_nonfinite": [int(v) for v in self.first_nonfinite], "steps": int(self.steps),
                "batch": int(self.batch), "epochs": None if self.epochs is None else int(self.epochs),
                "seconds": float(self.seconds), "trainer": self.trainer}

    @classmethod
    def from_json(cls, obj: Any, models: int) -> Measurements | None:
        """The measurements of ``models`` models stored by ``to_json``, or None when ``obj`` is not
        that (a damaged or foreign cache entry is a miss, never an error)."""
        try:
            eval_steps = _ints(obj["eval_steps"])
            first = _ints(obj["first_nonfinite"])
            curves, scores = _decode(obj["curves"]), _decode(obj["score_curves"])
            steps, batch, epochs, seconds = obj["steps"], obj["batch"], obj["epochs"], obj["seconds"]
            trainer = obj["trainer"]
        except (KeyError, TypeError, ValueError):
            return None
        shape = (models, len(eval_steps))
        if (curves.shape != shape or scores.shape != shape or first.shape != (models,) or not len(eval_steps)
                or not all(_is_int(v) for v in (steps, batch)) or not (epochs is None or _is_int(epochs))
                or not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
                or trainer not in ("numpy", "torch")):
            return None
        return cls(eval_steps, curves, scores, first, int(steps), int(batch), epochs, float(seconds), trainer)


NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _encode(a: np.ndarray) -> list[list[float | str]]:
    return [[float(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
             for v in row] for row in np.asarray(a, dtype=np.float64)]


def _decode(rows: Any) -> np.ndarray:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ValueError("not a list of rows")
    width = {len(r) for r in rows}
    if len(width) > 1:
        raise ValueError("ragged rows")
    out = [[NONFINITE[v] if isinstance(v, str) else (float(v) if _is_number(v) else _bad(v)) for v in r]
           for r in rows]
    return np.array(out, dtype=np.float64).reshape(len(rows), width.pop() if width else 0)


def _ints(values: Any) -> np.ndarray:
    if not isinstance(values, list) or not all(_is_int(v) for v in values):
        raise ValueError("not a list of integers")
    return np.array(values, dtype=np.int64)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bad(v: Any) -> float:
    raise ValueError(f"not a number: {v!r}")


def wins(as_is: np.ndarray, fixed: np.ndarray) -> bool:
    """Whether the gap holds in every seed for per-seed compared numbers (NaN/inf = that run failed):
    fixed <= ``CONFIRM_RATIO`` x as-is and ``MIN_DIFFERENCE`` lower, or as-is failed and fixed did not."""
    a_ok, f_ok = np.isfinite(as_is), np.isfinite(fixed)
    if not f_ok.all():
        return False
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(a_ok, fixed / np.where(as_is > 0, as_is, np.nan), 0.0)
        diff = np.where(a_ok, as_is - fixed, np.inf)
    won = (~a_ok) | ((np.nan_to_num(ratio, nan=np.inf) <= CONFIRM_RATIO) & (diff >= MIN_DIFFERENCE))
    return bool(won.all())


def gap_at(as_is_best: np.ndarray, fixed_best: np.ndarray, as_is_last: np.ndarray,
           fixed_last: np.ndarray, early: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[str, ...]:
    """The checkpoints ("best", "last", "early") at which one setup shows the gap in every seed;
    ``early``: the (as-is, fixed) numbers after ``EARLY_EPOCHS`` epochs, when the run is longer."""
    points = [("best", as_is_best, fixed_best), ("last", as_is_last, fixed_last)]
    if early is not None:
        points.append(("early", *early))
    return tuple(name for name, a, f in points if wins(a, f))


def early_index(eval_steps: np.ndarray, n_train: int, batch: int) -> int | None:
    """The evaluation after ``EARLY_EPOCHS`` epochs of ``n_train`` rows at ``batch`` (the first at or
    after it), or None when that is the last evaluation or beyond (the run is that short)."""
    step = EARLY_EPOCHS * max(1, n_train // max(1, batch))
    later = np.flatnonzero(eval_steps >= step)
    if not len(later) or later[0] >= len(eval_steps) - 1:
        return None
    return int(later[0])


def judge(setups: Sequence[Setup], fixed_failed: Sequence[bool], n: int,
          what: str = "held-out loss") -> tuple[str, str]:
    """The verdict and its reason from the panel's setups (each judged by ``gap_at``); ``what`` names
    the compared number."""
    shown = [s for s in setups if s.shows_gap]
    names = ", ".join(s.name for s in setups)
    rule = f"fixed {what} <= {CONFIRM_RATIO:g} x as-is and {MIN_DIFFERENCE:g} lower in all {n} seeds"
    if shown:
        said = "; ".join(f"{s.name} ({' and '.join(_AT[a] for a in s.gap_at)})" for s in shown)
        rest = [s.name for s in setups if not s.shows_gap]
        tail = f"; not with {', '.join(rest)}" if rest else ""
        return CONFIRMED, f"{rule} with {said}{tail}"
    if all(fixed_failed):
        return NOT_REPRODUCED, (f"the fixed run failed too (loss NaN/inf) in every setup ({names}), so the fix "
                                "is not what is missing")
    return NOT_REPRODUCED, (f"in none of the setups ({names}) was the {rule}, at the best checkpoint or "
                            "after the last step: no clear gap on this data")


_AT = {"best": "best checkpoint", "last": "last step", "early": f"after {EARLY_EPOCHS} epochs"}


def _at(curves: np.ndarray, first_bad: np.ndarray, k: int, step: int) -> np.ndarray:
    """Per model, the held-out number at evaluation ``k`` (after ``step``); NaN where the run had failed."""
    v = curves[:, k]
    return np.where(((first_bad >= 0) & (first_bad <= step)) | ~np.isfinite(v), np.nan, v)


def _setup(name: str, optimizer: str, curves: np.ndarray, first: np.ndarray, s: int, j: int, p: int,
           eval_steps: np.ndarray, early: int | None) -> Setup:
    a, f = slice(j * s, (j + 1) * s), slice((p + j) * s, (p + j + 1) * s)
    ab, fb = best_loss(curves[a], first[a]), best_loss(curves[f], first[f])
    last, end = curves.shape[1] - 1, int(eval_steps[-1])
    al, fl = _at(curves[a], first[a], last, end), _at(curves[f], first[f], last, end)
    pair = None if early is None else (_at(curves[a], first[a], early, int(eval_steps[early])),
                                       _at(curves[f], first[f], early, int(eval_steps[early])))
    mean = lambda v: num(v.mean()) if np.isfinite(v).all() else None  # noqa: E731
    return Setup(name=name, optimizer=optimizer, as_is_best=mean(ab), fixed_best=mean(fb), as_is_last=mean(al),
                 fixed_last=mean(fl), gap_at=gap_at(ab, fb, al, fl, pair),
                 early_step=None if early is None else int(eval_steps[early]),
                 as_is_early=None if pair is None else mean(pair[0]),
                 fixed_early=None if pair is None else mean(pair[1]))


def build_evidence(*, code: str, family: str, task: str, eval_loss: str, columns: Sequence[str],
                   eval_steps: np.ndarray, curves: np.ndarray, score_curves: np.ndarray,
                   first_nonfinite: np.ndarray, n_seeds: int, steps: int, batch: int, epochs: int | None,
                   hidden: int, setups: Sequence[tuple[str, str, float]], d: int, n_out: int,
                   rows: Mapping[str, int], seconds: float, as_is: str, fixed: str, notes: Sequence[str],
                   data: str = "user", metric: str | None = None, judged_on: str = "loss",
                   trainer: str | None = None) -> Evidence:
    """The evidence of one training. Arrays are per model: as-is models first, then fixed ones; within
    each, ``setups`` in order (name, optimizer, lr), within those the ``n_seeds`` seeds."""
    metric = metric or ("r2" if task == "regression" else "accuracy")
    s, p = n_seeds, len(setups)
    compared = curves if judged_on == "loss" else 1.0 - score_curves
    # a panel setup names its optimizer by key; the probe on the user's model describes the user's own
    words = [OPTIMIZER_WORDS[opt].format(lr=lr) if opt in OPTIMIZER_WORDS else opt for _, opt, lr in setups]
    early = early_index(eval_steps, int(rows.get("train", 0)), batch) if epochs is None else None
    panel = tuple(_setup(name, w, compared, first_nonfinite, s, j, p, eval_steps, early)
                  for j, ((name, _, _), w) in enumerate(zip(setups, words)))
    fixed_failed = [bool((first_nonfinite[(p + j) * s:(p + j + 1) * s] >= 0).any()
                         or not np.isfinite(best_loss(compared[(p + j) * s:(p + j + 1) * s],
                                                      first_nonfinite[(p + j) * s:(p + j + 1) * s])).all())
                    for j in range(p)]
    what = "held-out loss" if judged_on == "loss" else METRIC_ERRORS.get(metric, f"1 - {metric}")
    verdict, reason = judge(panel, fixed_failed, s, what)
    shown_by = tuple(x.name for x in panel if x.shows_gap)
    h = next((j for j, x in enumerate(panel) if x.shows_gap), 0)  # the headline setup
    ia, i_f = slice(h * s, (h + 1) * s), slice((p + h) * s, (p + h + 1) * s)
    a = _variant(compared[ia], score_curves[ia], first_nonfinite[ia], metric, as_is)
    f = _variant(compared[i_f], score_curves[i_f], first_nonfinite[i_f], metric, fixed)
    best_f = best_loss(compared[i_f], first_nonfinite[i_f])
    ratio = difference = None
    if a.best is not None and f.best is not None:
        ratio = num(f.best / a.best) if a.best > 0 else None
        difference = num(a.best - f.best)
    gap = Gap(margin=CONFIRM_RATIO, compares=f"best {what} (early stopping) and last", ratio=ratio,
              difference=difference, as_is_reaches_fixed_at=reach_step(eval_steps, compared[ia], best_f),
              never_reached=never_reached(compared[ia], best_f))
    loss = LOSS_NAMES.get(eval_loss, eval_loss) if judged_on == "loss" else what
    return Evidence(
        verdict=verdict, reason=reason, rule=code, family=family, columns=tuple(columns), task=task,
        model=f"MLP {d}-{hidden}-{n_out} (ReLU), {words[h]}, batch {batch}",
        loss=loss, metric=metric, as_is=a, fixed=f, gap=gap, seeds=s,
        steps=int(steps), epochs=epochs, curve_steps=tuple(int(v) for v in eval_steps), rows=dict(rows),
        seconds=round(float(seconds), 3), notes=tuple(notes), data=data, panel=panel, shown_by=shown_by,
        judged_on=judged_on, trainer=trainer)


def never_reached(as_is_curves: np.ndarray, fixed_best: np.ndarray) -> bool:
    """True when no as-is seed, at any evaluation, came down to the fixed runs' mean best loss."""
    if not np.isfinite(fixed_best).all() or not len(fixed_best):
        return False
    target = float(fixed_best.mean())
    with np.errstate(invalid="ignore"):
        return not bool((np.isfinite(as_is_curves) & (as_is_curves <= target)).any())


def reach_step(eval_steps: np.ndarray, as_is_curves: np.ndarray, fixed_best: np.ndarray) -> int | None:
    """First evaluated step at which the as-is mean curve is at or below the fixed runs' mean best loss."""
    if not np.isfinite(fixed_best).all():
        return None
    target = float(fixed_best.mean())
    with np.errstate(invalid="ignore"):
        mean = as_is_curves.mean(axis=0)
    hit = np.flatnonzero(np.isfinite(mean) & (mean <= target))
    return int(eval_steps[hit[0]]) if len(hit) else None
