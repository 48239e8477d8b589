"""Finding, Location, Severity, Evidence and Report: plain values, no I/O.

A ``Report`` renders itself (``str()``, ``to_json()``) but never prints or exits;
``raise_for_findings()`` is the guard a training script calls before training. ``str(report)`` is
the text report: the renderer lives in ``preflight.report.text``, which the package registers here
(``use_text_renderer``) so that this module never imports a layer above it.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from preflight.errors import FindingsError, PreflightError
from preflight.printable import printable

__all__ = ["Evidence", "Finding", "Gap", "Location", "Report", "Setup", "Severity", "Variant", "use_text_renderer"]


class Severity(enum.IntEnum):
    """How much a finding matters. Ordered: ``INFO < WARNING < ERROR``."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise PreflightError(f"unknown severity {value!r}: use one of {choices}") from None


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file, and within it a column (data) or a line and column (code).

    In a notebook ``line`` is the line of the joined code cells (what suppression and sorting use)
    and ``cell`` / ``cell_line`` say where that is in the notebook (cells numbered from 1 over all
    cells, lines from 1 within the cell). They are filled from ``path`` when it can place a line
    (the notebook reader's path has a ``cell_of(line)`` method) and printed as
    ``notebook.ipynb:cell 7:line 3``.
    """

    path: str | None = None
    column: str | None = None
    line: int | None = None
    col: int | None = None
    end_line: int | None = None  # the last line of the code the finding points at (a multi-line call)
    cell: int | None = None
    cell_line: int | None = None

    def __post_init__(self) -> None:
        cell_of = getattr(self.path, "cell_of", None)
        if self.cell is None and self.line is not None and callable(cell_of):
            placed = cell_of(self.line)
            if placed is not None:
                object.__setattr__(self, "cell", placed[0])
                object.__setattr__(self, "cell_line", placed[1])

    def __str__(self) -> str:
        where = self.path or "<object>"
        if self.cell is not None:
            return f"{where}:cell {self.cell}:line {self.cell_line}"
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return where


Curve = tuple["float | None", ...]
SKIPPED = "skipped"


@dataclass(frozen=True)
class Variant:
    """One side of a probe (as-is or fixed): its losses over seeds, the metric and the curves.

    ``score`` is the evidence's metric (accuracy or R^2, named by ``Evidence.metric``); ``per_seed``
    maps "best", "final" and the metric to one value per seed."""

    setup: str | None = None
    best: float | None = None
    final: float | None = None
    score: float | None = None
    per_seed: Mapping[str, tuple[float | None, ...]] = field(default_factory=dict)
    curve: Curve = ()
    curves: tuple[Curve, ...] = ()
    failed: bool = False
    failure: str | None = None

    def to_dict(self, metric: str) -> dict[str, Any]:
        out: dict[str, Any] = {"setup": self.setup, "best": self.best, "final": self.final, metric: self.score,
                               "per_seed": {k: list(v) for k, v in self.per_seed.items()},
                               "curve": list(self.curve), "curves": [list(c) for c in self.curves],
                               "failed": self.failed}
        if self.failure is not None:
            out["failure"] = self.failure
        return out

    @classmethod
    def from_dict(cls, d: Any, metric: str) -> Variant | None:
        if not isinstance(d, Mapping):
            return None
        curves = tuple(_curve(c) for c in d.get("curves") or () if isinstance(c, (list, tuple)))
        curve = d.get("curve") or ()
        if curve and all(isinstance(c, (list, tuple)) for c in curve):  # a list of per-seed curves
            curves = curves or tuple(_curve(c) for c in curve)
            curve = ()
        per_seed = d.get("per_seed")
        return cls(setup=d.get("setup"), best=finite(d.get("best")), final=finite(d.get("final")),
                   score=finite(d.get(metric)),
                   per_seed={str(k): _curve(v) for k, v in per_seed.items() if isinstance(v, (list, tuple))}
                   if isinstance(per_seed, Mapping) else {},
                   curve=_curve(curve), curves=curves, failed=bool(d.get("failed", False)),
                   failure=d.get("failure"))


@dataclass(frozen=True)
class Gap:
    """The measured gap between the variants: what it compares, fixed/as-is, as-is minus fixed, and
    the first evaluated step where the as-is mean curve reaches the fixed best loss (None: not at
    any evaluation). ``never_reached`` is True only when no as-is run, in any seed, ever came down
    to the fixed runs' mean best (so "as-is never reaches it" is true of every seed)."""

    margin: float | None = None
    compares: str | None = None
    ratio: float | None = None
    difference: float | None = None
    as_is_reaches_fixed_at: int | None = None
    never_reached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"margin": self.margin, "compares": self.compares, "ratio": self.ratio,
                "difference": self.difference, "as_is_reaches_fixed_at": self.as_is_reaches_fixed_at,
                "never_reached": self.never_reached}

    @classmethod
    def from_dict(cls, d: Any) -> Gap | None:
        if d is None:
            return None
        if not isinstance(d, Mapping):  # a bare number: the difference
            return cls(difference=finite(d))
        reach = d.get("as_is_reaches_fixed_at")
        return cls(margin=finite(d.get("margin")), compares=d.get("compares"), ratio=finite(d.get("ratio")),
                   difference=finite(d.get("difference")),
                   as_is_reaches_fixed_at=int(reach) if isinstance(reach, (int, float)) else None,
                   never_reached=d.get("never_reached") is True)


@dataclass(frozen=True)
class Setup:
    """One training setup of the probe's panel and what it measured: the mean over seeds of each
    variant's compared number (held-out loss, or 1 - the metric) at the best checkpoint, after the
    last step and, in a run longer than that, after a few epochs (``early_step``), and at which of
    those the gap held in every seed (``gap_at``: "best", "last", "early")."""

    name: str
    optimizer: str = ""
    as_is_best: float | None = None
    fixed_best: float | None = None
    as_is_last: float | None = None
    fixed_last: float | None = None
    gap_at: tuple[str, ...] = ()
    early_step: int | None = None
    as_is_early: float | None = None
    fixed_early: float | None = None

    @property
    def shows_gap(self) -> bool:
        return bool(self.gap_at)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "optimizer": self.optimizer, "as_is_best": self.as_is_best,
                "fixed_best": self.fixed_best, "as_is_last": self.as_is_last, "fixed_last": self.fixed_last,
                "gap_at": list(self.gap_at), "early_step": self.early_step, "as_is_early": self.as_is_early,
                "fixed_early": self.fixed_early}

    @classmethod
    def from_dict(cls, d: Any) -> Setup | None:
        if not isinstance(d, Mapping) or not isinstance(d.get("name"), str):
            return None
        gap_at = d.get("gap_at")
        return cls(name=d["name"], optimizer=str(d.get("optimizer") or ""), as_is_best=finite(d.get("as_is_best")),
                   fixed_best=finite(d.get("fixed_best")), as_is_last=finite(d.get("as_is_last")),
                   fixed_last=finite(d.get("fixed_last")),
                   gap_at=tuple(str(g) for g in gap_at) if isinstance(gap_at, (list, tuple)) else (),
                   early_step=int(early) if isinstance(early := d.get("early_step"), int) else None,
                   as_is_early=finite(d.get("as_is_early")), fixed_early=finite(d.get("fixed_early")))


@dataclass(frozen=True)
class Evidence:
    """What the reference training probe measured for one finding, or why it was skipped.

    A value: ``to_dict()`` is the JSON every format writes (``--format json``, SARIF's
    ``properties.probe``, the recorded ``evidence.json``), ``from_dict()`` reads it back. The words
    for it (the one-line summary, the gap sentence) are ``preflight.report.evidence``'s.
    ``data`` is "user" (measured on the input's rows) or "reference" (recorded on an example).
    ``panel`` holds every setup the probe trained (``Setup``), ``shown_by`` the names of those that
    showed the gap; ``as_is`` / ``fixed`` / ``gap`` / ``model`` are the headline setup's (the first
    that showed the gap, else the panel's first). ``judged_on`` is "loss" (held-out loss),
    "metric" (one minus ``metric``, e.g. balanced accuracy) or "memory" (``loss`` names what is kept,
    compared after the last step: PF503).
    """

    verdict: str
    reason: str = ""
    rule: str | None = None
    family: str | None = None
    columns: tuple[str, ...] = ()
    task: str | None = None
    model: str | None = None
    loss: str | None = None
    metric: str = "accuracy"
    as_is: Variant | None = None
    fixed: Variant | None = None
    gap: Gap | None = None
    seeds: int | None = None
    steps: int | None = None
    epochs: int | None = None
    curve_steps: tuple[int, ...] | None = None
    rows: Mapping[str, int] | None = None
    seconds: float | None = None
    notes: tuple[str, ...] = ()
    data: str = "user"
    cached: bool | None = None
    about: str | None = None
    panel: tuple[Setup, ...] = ()
    shown_by: tuple[str, ...] = ()
    judged_on: str = "loss"
    trainer: str | None = None  # "numpy" or "torch": which implementation trained (None: not recorded)

    @property
    def skipped(self) -> bool:
        return self.verdict == SKIPPED

    def with_notes(self, *notes: str) -> Evidence:
        return replace(self, notes=self.notes + notes)

    def to_dict(self) -> dict[str, Any]:
        if self.skipped:
            out: dict[str, Any] = {"verdict": self.verdict, "reason": self.reason, "data": self.data}
            out.update({k: v for k, v in (("rule", self.rule), ("family", self.family)) if v is not None})
            return out
        out = {"verdict": self.verdict, "reason": self.reason, "rule": self.rule, "family": self.family,
               "columns": list(self.columns), "task": self.task, "model": self.model, "loss": self.loss,
               "metric": self.metric,
               "as_is": self.as_is.to_dict(self.metric) if self.as_is is not None else None,
               "fixed": self.fixed.to_dict(self.metric) if self.fixed is not None else None,
               "gap": self.gap.to_dict() if self.gap is not None else None,
               "seeds": self.seeds, "steps": self.steps, "epochs": self.epochs,
               "curve_steps": list(self.curve_steps) if self.curve_steps is not None else None,
               "rows": dict(self.rows) if self.rows is not None else None}
        if self.seconds is not None:
            out["seconds"] = self.seconds
        out["notes"] = list(self.notes)
        out["data"] = self.data
        if self.cached is not None:
            out["cached"] = self.cached
        if self.about is not None:
            out["about"] = self.about
        if self.panel:
            out["panel"] = [p.to_dict() for p in self.panel]
            out["shown_by"] = list(self.shown_by)
            out["judged_on"] = self.judged_on
        if self.trainer is not None:
            out["trainer"] = self.trainer
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        """Evidence from its JSON (a recorded file, a hand-written example); missing keys take defaults."""
        metric = str(d.get("metric") or "accuracy")
        rows = d.get("rows")
        steps = d.get("curve_steps")
        return cls(verdict=str(d.get("verdict") or SKIPPED), reason=str(d.get("reason") or ""),
                   rule=d.get("rule"), family=d.get("family"), columns=tuple(d.get("columns") or ()),
                   task=d.get("task"), model=d.get("model"), loss=d.get("loss"), metric=metric,
                   as_is=Variant.from_dict(d.get("as_is"), metric), fixed=Variant.from_dict(d.get("fixed"), metric),
                   gap=Gap.from_dict(d.get("gap")), seeds=d.get("seeds"), steps=d.get("steps"),
                   epochs=d.get("epochs"),
                   curve_steps=tuple(steps) if isinstance(steps, (list, tuple)) else None,
                   rows=dict(rows) if isinstance(rows, Mapping) else None, seconds=d.get("seconds"),
                   notes=tuple(d.get("notes") or ()), data=str(d.get("data") or "user"), cached=d.get("cached"),
                   about=d.get("about"), panel=_setups(d.get("panel")),
                   shown_by=tuple(str(n) for n in d.get("shown_by") or ()),
                   judged_on=str(d.get("judged_on") or "loss"),
                   trainer=str(d["trainer"]) if d.get("trainer") else None)


def finite(v: Any) -> float | None:
    """A finite float, or None (missing, non-numeric, NaN or inf)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _setups(values: Any) -> tuple[Setup, ...]:
    if not isinstance(values, (list, tuple)):
        return ()
    return tuple(s for s in (Setup.from_dict(v) for v in values) if s is not None)


def _curve(values: Any) -> Curve:
    return tuple(finite(v) for v in values)


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule.

    ``probe`` holds the reference training probe's ``Evidence``, or None when no probe ran.
    """

    code: str
    name: str
    severity: Severity
    message: str
    fix: str = ""
    location: Location = field(default_factory=Location)
    probe: Evidence | None = None
    # a code rule's automatic fix (``preflight.fixing.CodeFix``: edits, safe or not); None: none
    autofix: Any = None

    def with_probe(self, probe: Evidence | None, severity: Severity | None = None) -> Finding:
        return replace(self, probe=probe, severity=self.severity if severity is None else severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "path": self.location.path,
            "column": self.location.column,
            "line": self.location.line,
            "col": self.location.col,
            **({"cell": self.location.cell, "cell_line": self.location.cell_line}
               if self.location.cell is not None else {}),
            "message": self.message,
            "fix": self.fix,
            **({"autofix": self.autofix.to_dict() if self.autofix is not None else {"available": False, "safe": None}}
               if self.location.line is not None else {}),
            "probe": self.probe.to_dict() if self.probe is not None else None,
        }

    def __str__(self) -> str:
        column = f" [{self.location.column}]" if self.location.column else ""
        return f"{self.location}: {self.code} {self.name}{column} {self.message}"


@dataclass(frozen=True)
class Report:
    """The findings of one run and a summary of what was read. ``errors`` holds one line per input
    that could not be checked (``preflight.errors.InputError``: a ``str`` with the ``path`` it names)."""

    findings: tuple[Finding, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @classmethod
    def build(cls, findings: Iterable[Finding], summary: Mapping[str, Any] | None = None,
              errors: Iterable[str] = ()) -> Report:
        ordered = sorted(findings, key=_sort_key)
        summary = dict(summary or {})
        summary["counts"] = {str(s): sum(f.severity == s for f in ordered) for s in Severity}
        return cls(tuple(ordered), summary, tuple(errors))

    @property
    def ok(self) -> bool:
        """True when nothing at warning or above was found and every input was read."""
        return not self.errors and not self.at_or_above(Severity.WARNING)

    def at_or_above(self, severity: str | Severity) -> list[Finding]:
        level = Severity.parse(severity)
        return [f for f in self.findings if f.severity >= level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "summary": dict(self.summary),
            "errors": [{"path": getattr(e, "path", None), "message": str(e)} for e in self.errors],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_json_default)

    def raise_for_findings(self, min_severity: str | Severity = "warning") -> None:
        """Raise ``PreflightError`` when any finding is at ``min_severity`` or above."""
        bad = self.at_or_above(min_severity)
        if bad or self.errors:
            lines = [printable(str(f)) for f in bad] + [printable(e) for e in self.errors]
            head = f"preflight found {len(bad)} problem(s) at {Severity.parse(min_severity)} or above"
            raise FindingsError(head + ":\n  " + "\n  ".join(lines))

    def __str__(self) -> str:
        if _TEXT_RENDERER:
            return _TEXT_RENDERER[0](self)
        return "\n".join(str(f) for f in self.findings)  # only before the package registered one


_TEXT_RENDERER: list[Callable[[Report], str]] = []


def use_text_renderer(render: Callable[[Report], str]) -> None:
    """Make ``render`` what ``str(report)`` returns (``preflight/__init__.py`` registers the text report)."""
    _TEXT_RENDERER[:] = [render]


def _sort_key(f: Finding) -> tuple:
    """By place and code; one rule's columns keep the order the rule gave them (the table's), so a
    grouped line's first columns are the table's first (a stable sort: ``miss2`` before ``miss10``)."""
    loc = f.location
    return (loc.path or "", loc.line or 0, loc.col or 0, f.code, loc.column is None)


def _json_default(value: Any) -> Any:
    # numpy scalars and the like
    for attr in ("item", "tolist"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)
