"""Running probes: apply the rule's fix object, fit the budget, train, judge, cache.

A probe that cannot measure is ``skipped`` with the reason, never ``not_reproduced``, and it runs
with numeric warnings silenced (``preflight.probes.failures``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np

from preflight.checks.fixes import Fix, StableLoss
from preflight.findings import Evidence
from preflight.inputs.subject import TableSubject
from preflight.probes import cache as probe_cache
from preflight.probes.data import (
    ProbeData,
    Skip,
    Table,
    batch_plan,
    build,
    no_rows_reason,
    table_from_arrays,
    table_from_subject,
)
from preflight.probes.evidence import NOT_REPRODUCED, Measurements, build_evidence, skipped
from preflight.probes.failures import FIXED_FAILED, fixed_all_failed, quiet_numerics, unmeasurable
from preflight.probes.reference import reference_evidence
from preflight.probes.settings import (
    CURVE_POINTS,
    DEFAULT_STEPS,
    MIN_STEPS,
    PROBE_VERSION,
    TORCH_INSTALL,
    ProbeSettings,
    trainer_problem,
)
from preflight.probes.user import user_probe

# Cost model for the budget, calibrated on a 2-core x86 CPU with one torch thread
# (bench/probe.py prints predicted against measured; it errs on the slow side): seconds per step =
# STEP_OVERHEAD + flops / FLOPS, flops = 6 * models * batch * (d * hidden + hidden * out).
# Deterministic on purpose: the number of steps, hence the numbers, must not depend on load.
STEP_OVERHEAD = 1.2e-3
FLOPS = 1e10


def fix_of(rule: Any, subject: Any = None) -> Fix | None:
    """The fix ``rule``'s probe applies (``Rule.fix_for(subject)``, or ``fix_object``), or None."""
    return getattr(rule, "fix_object", None) if subject is None or rule is None else rule.fix_for(subject)


def predicted_seconds(steps: int, models: int, batch: int, d: int, hidden: int, out: int, n_test: int) -> float:
    per_sample = d * hidden + hidden * out
    train = steps * (STEP_OVERHEAD + 6.0 * models * batch * per_sample / FLOPS)
    evals = (CURVE_POINTS + 2) * (2e-4 + 2.0 * models * n_test * per_sample / FLOPS)
    return train + evals


def fit_steps(data: ProbeData, settings: ProbeSettings) -> tuple[int | None, int | None, str]:
    """(steps, epochs, note): the default or asked-for length, cut to fit ``settings.budget``.

    Raises ``Skip`` when the budget leaves fewer than ``MIN_STEPS`` steps.
    """
    want = settings.steps or DEFAULT_STEPS
    models = settings.models
    d = data.X_train.shape[2]
    batch = max(1, min(data.batch_size, data.n_train))
    per_epoch = max(1, data.n_train // batch)

    def cost(n_steps: int) -> float:
        return predicted_seconds(n_steps, models, batch, d, settings.hidden, data.n_out, data.n_test)

    note = ""
    if data.fix.whole_epochs:  # as a training loop does, which stops at an epoch's end
        epochs = max(1, round(want / per_epoch))
        while epochs > 1 and settings.budget > 0 and cost(epochs * per_epoch) > settings.budget:
            epochs -= 1
        if settings.budget > 0 and cost(epochs * per_epoch) > settings.budget:
            raise Skip(f"one epoch ({per_epoch} steps) does not fit the probe budget of {settings.budget:g} s")
        if epochs * per_epoch < want * 0.5 and settings.steps is None and round(want / per_epoch) > epochs:
            note = f"cut to {epochs} epochs to fit the {settings.budget:g} s budget"
        return None, epochs, note
    steps = want
    if settings.budget > 0 and cost(steps) > settings.budget:
        fixed = cost(0)  # the held-out evaluations, whatever the number of steps
        steps = int((settings.budget - fixed) / (cost(1) - fixed))
        if steps < MIN_STEPS:
            raise Skip(f"the probe budget of {settings.budget:g} s allows under {MIN_STEPS} steps on "
                       f"{d} features")
        note = f"cut from {want} to {steps} steps to fit the {settings.budget:g} s budget"
    return steps, None, note


def preflight_version() -> str:
    from preflight.version import __version__

    return __version__


@cache
def library_versions(with_torch: bool = True) -> dict[str, str]:
    """The versions of the libraries whose numerics a training depends on: numpy's, and for a torch
    training (``with_torch``) torch's, from its metadata (a cache hit does not import torch; only
    without metadata is torch imported to ask it)."""
    if not with_torch:
        return {"numpy": np.__version__}
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        try:
            import torch

            torch_version = str(torch.__version__)
        except ImportError:
            torch_version = "absent"
    return {"torch": torch_version, "numpy": np.__version__}


def training_key(data: ProbeData, steps: int | None, epochs: int | None, settings: ProbeSettings) -> str:
    """The cache key of a training: a hash of everything the trainer sees and of the code that
    trains. Not the rule (two rules whose probes train alike share one training) and not the judge
    (the verdict is judged from the measurements on every read)."""
    h = hashlib.sha256()
    for a in data.fingerprint_arrays():
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    meta = {"family": data.fix.family, "fix": data.fix.key(), "task": data.task, "n_out": data.n_out,
            "losses": list(data.losses), "eval_loss": data.eval_loss, "order": list(data.fix.order),
            "batch": data.batch_size, "steps": steps, "epochs": epochs, "settings": settings.key(),
            "metric": data.metric, "judged_on": data.fix.judged_on,
            "probe_version": PROBE_VERSION, "preflight": preflight_version(),
            **library_versions(settings.trainer_used() == "torch")}  # torch's numerics: a torch training's only
    h.update(json.dumps(meta, sort_keys=True).encode())
    return h.hexdigest()


# Trainings already run for one subject (``attach_probes``): training key -> (measurements, whether
# they came from the disk cache, the rule whose probe ran them).
Trained = dict[str, tuple[Measurements, bool, str]]


def run_on_table(table: Table, code: str, fix: Fix, columns: Sequence[str] = (),
                 settings: ProbeSettings = ProbeSettings(), data_kind: str = "user",
                 trained: Trained | None = None) -> Evidence:
    """Probe ``code``'s ``fix`` on ``table``, transforming ``columns``: the evidence (never raises for bad data).

    The training comes from ``trained`` (this subject's trainings so far), else from the cache, else
    it runs; either way the evidence, verdict included, is built from its measurements here.
    """
    with quiet_numerics():
        return _run_on_table(table, code, fix, columns, settings, data_kind, trained)


def _run_on_table(table: Table, code: str, fix: Fix, columns: Sequence[str], settings: ProbeSettings,
                  data_kind: str, trained: Trained | None) -> Evidence:
    try:
        data = build(fix, table, columns, settings)
        steps, epochs, note = fit_steps(data, settings)
    except Skip as e:
        return skipped(str(e), rule=code, family=fix.family, data=data_kind)
    why_not = unmeasurable(data) or trainer_problem(settings)
    if why_not is not None:
        return skipped(why_not, rule=code, family=fix.family, data=data_kind)
    models = settings.models
    key = training_key(data, steps, epochs, settings)
    shared_with = None
    if trained is not None and key in trained:
        measured, cached, shared_with = trained[key]
    else:
        hit = probe_cache.get(key, settings.cache_dir) if settings.cache else None
        from_cache = Measurements.from_json(hit, models) if hit is not None else None
        cached = from_cache is not None
        if from_cache is None:
            try:
                measured = _train(data, steps, epochs, settings)
            except Skip as e:
                return skipped(str(e), rule=code, family=fix.family, data=data_kind)
            if settings.cache:
                probe_cache.put(key, measured.to_json(), settings.cache_dir)
        else:
            measured = from_cache
        if trained is not None:
            trained[key] = (measured, cached, code)
    ev = _evidence(data, code, measured, settings, data_kind)
    if ev.verdict == NOT_REPRODUCED and fixed_all_failed(measured):
        return skipped(FIXED_FAILED, rule=code, family=fix.family, data=data_kind)
    if note:
        ev = ev.with_notes(note)
    if shared_with is not None and shared_with != code:
        ev = ev.with_notes(f"the same training as {shared_with}'s probe (same data, same fix), run once")
    return replace(ev, cached=cached)


def _evidence(data: ProbeData, code: str, m: Measurements, settings: ProbeSettings,
              data_kind: str) -> Evidence:
    return build_evidence(
        code=code, family=data.fix.family, task=data.task, eval_loss=data.eval_loss, columns=data.columns,
        eval_steps=m.eval_steps, curves=m.curves, score_curves=m.score_curves, first_nonfinite=m.first_nonfinite,
        n_seeds=settings.seeds, steps=m.steps, batch=m.batch, epochs=m.epochs, hidden=settings.hidden,
        setups=settings.setups(), d=data.X_train.shape[2], n_out=data.n_out,
        rows={"train": data.n_train, "heldout": data.n_test}, seconds=m.seconds, as_is=data.fix.as_is,
        fixed=data.fix.fixed, notes=data.notes, data=data_kind, metric=data.metric, judged_on=data.fix.judged_on,
        trainer=m.trainer)


def _train(data: ProbeData, steps: int | None, epochs: int | None, settings: ProbeSettings) -> Measurements:
    trainer = settings.trainer_used()
    if trainer == "numpy":
        from preflight.probes.train_numpy import fit
    else:
        try:
            from preflight.probes.train import fit  # type: ignore[assignment]  # imports torch
        except ImportError as exc:  # installed but broken (a missing shared library, an ABI mismatch)
            raise Skip(f"torch is installed but could not be imported ({type(exc).__name__}: {exc})") from exc

    seeds = list(range(settings.seeds))
    buffer = data.fix.buffer_rows(data.n_train)
    plan = batch_plan(data.n_train, data.batch_size, steps, epochs, seeds, data.fix.order, buffer)
    setups = settings.setups()
    n_s = len(seeds)
    # models: variant, then setup, then seed; every setup of a seed sees that seed's batches
    columns = [v * n_s + i for v in (0, 1) for _ in setups for i in range(n_s)]
    plan = plan[:, columns]
    variant = [v for v in (0, 1) for _ in setups for _ in seeds]
    model_seeds = [s for _ in (0, 1) for _ in setups for s in seeds]
    lrs = [lr for _ in (0, 1) for _, _, lr in setups for _ in seeds]
    optimizers = [opt for _ in (0, 1) for _, opt, _ in setups for _ in seeds]
    eval_at = None
    if epochs is not None:  # order probes: evaluate at epoch ends, where a training loop validates
        per_epoch = plan.shape[0] // epochs
        every = max(1, -(-epochs // CURVE_POINTS))
        eval_at = [e * per_epoch for e in range(every, epochs + 1, every)]
    t0 = time.perf_counter()
    result = fit(data.X_train, data.y_train, data.X_test, data.y_test, plan, variant, model_seeds,
                 data.losses, data.eval_loss, data.task, data.n_out, settings.hidden, settings.lr,
                 device=settings.device, eval_at=eval_at, lrs=lrs, optimizers=optimizers,
                 weights=data.weights, metric=data.metric)
    seconds = time.perf_counter() - t0
    return Measurements(eval_steps=np.asarray(result.eval_steps), curves=np.asarray(result.curves, np.float64),
                        score_curves=np.asarray(result.score_curves, np.float64),
                        first_nonfinite=np.asarray(result.first_nonfinite, np.int64), steps=int(result.steps),
                        batch=int(plan.shape[2]), epochs=epochs, seconds=seconds, trainer=trainer)


# --- public entry points -----------------------------------------------------------------------

def run_probe(subject: Any, rule: Any, flagged: Sequence[str] = (),
              settings: ProbeSettings = ProbeSettings()) -> Evidence:
    """Probe ``rule``'s fix object on a table subject, over the columns the rule's fix covers given
    the ``flagged`` ones (``Rule.probe_columns``: PF102's covers every feature it compared).

    One probe asked for (``preflight probe``) with the torch trainer and no torch: a ``PreflightError``
    naming the extra to install, where a check (``attach_probes``) keeps its findings and skips their
    probes."""
    if trainer_problem(settings) is not None:
        from preflight.errors import PreflightError

        raise PreflightError(f"the probe trains with torch, which is not installed: {TORCH_INSTALL}")
    return _probe_subject(subject, rule, flagged, settings, None)


def _probe_subject(subject: Any, rule: Any, flagged: Sequence[str], settings: ProbeSettings,
                   trained: Trained | None) -> Evidence:
    """``run_probe``'s work; ``trained``: see ``run_on_table``."""
    fix = fix_of(rule, subject)
    if fix is None:
        raise ValueError(f"{rule.code} names no fix object, so it has no probe")
    try:
        with quiet_numerics():
            table = table_from_subject(subject, settings.max_rows)
    except Skip as e:
        return skipped(str(e), rule=rule.code, family=fix.family)
    return run_on_table(table, rule.code, fix, rule.probe_columns(subject, flagged), settings, trained=trained)


def probe_arrays(X: np.ndarray, y: np.ndarray, task: str, code: str, fix: Fix,
                 columns: Sequence[str] = (), features: Sequence[str] | None = None,
                 settings: ProbeSettings = ProbeSettings(), data_kind: str = "user") -> Evidence:
    """Probe on plain arrays (rows in file order)."""
    try:
        table = table_from_arrays(X, y, task, features, settings.max_rows)
    except Skip as e:
        return skipped(str(e), rule=code, family=fix.family, data=data_kind)
    return run_on_table(table, code, fix, columns, settings, data_kind)


def probe_output(X: np.ndarray, y: np.ndarray, kind: str, task: str | None = None, code: str = "PF3xx",
                 settings: ProbeSettings = ProbeSettings(), data_kind: str = "user") -> Evidence:
    """The PF3xx probe, ``StableLoss(kind)``: the user's output activation and loss (``kind``, a key
    of ``preflight.checks.fixes.OUTPUT_KINDS``) against logits with the matching stable loss.

    ``task`` defaults to binary for sigmoid kinds and to binary/multiclass by the number of classes
    of ``y`` for softmax kinds. Call it with the user's data, or with ``reference_data(kind)``.
    """
    if task is None:
        task = "binary" if kind.startswith("sigmoid") else (
            "binary" if len(np.unique(np.asarray(y)[np.isfinite(np.asarray(y, dtype=float))])) == 2
            else "multiclass")
    return probe_arrays(X, y, task, code, StableLoss(kind), settings=settings, data_kind=data_kind)


def _rules(rules: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if rules is not None:
        return rules
    from preflight.checks import RULES_BY_CODE

    return RULES_BY_CODE


def _probed(findings: Sequence[Any], rules: Mapping[str, Any]) -> dict[str, list[int]]:
    """Rule code -> indices of its findings that have no evidence yet and whose rule has a probe."""
    by_code: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        if f.probe is None and fix_of(rules.get(f.code)) is not None:
            by_code.setdefault(f.code, []).append(i)
    return by_code


def probe_trains(findings: Sequence[Any], subject: Any, settings: ProbeSettings = ProbeSettings(),
                 rules: Mapping[str, Any] | None = None) -> int:
    """How many of ``findings`` ``attach_probes`` trains for on ``subject`` (a cache hit counts):
    0 when probing is off or the subject has no rows to train on (a .py file and a live loader get
    recorded evidence, a table without a sample or a target a skip; with the torch trainer and no torch
    every probe skips)."""
    if not settings.enabled or no_rows_reason(subject) is not None or trainer_problem(settings) is not None:
        return 0
    return sum(len(idx) for idx in _probed(findings, _rules(rules)).values())


def attach_probes(findings: Iterable[Any], subject: Any, settings: ProbeSettings = ProbeSettings(),
                  rules: Mapping[str, Any] | None = None) -> list[Any]:
    """Findings with probe evidence attached: one probe per rule and subject over every flagged column
    (``Rule.probe_columns``); rules whose probes train alike (the same transform of the same columns, the
    same rows) share one training, each with its own ``rule`` in the evidence.

    A finding whose probe gives ``not_reproduced`` on the user's rows drops to info severity;
    ``confirmed``, ``skipped`` and reference evidence keep theirs. A subject without rows (a .py file)
    gets the recorded evidence of the rule's fix, marked ``"data": "reference"``. ``rules`` maps codes
    to Rule objects, whose ``fix_object`` the probe applies (default: every rule).
    """

    findings = list(findings)
    if not settings.enabled:
        return findings
    rules = _rules(rules)
    by_code = _probed(findings, rules)
    with quiet_numerics():
        _attach(findings, by_code, rules, subject, settings)
    return findings


def _attach(findings: list[Any], by_code: dict[str, list[int]], rules: Mapping[str, Any], subject: Any,
            settings: ProbeSettings) -> None:
    """``attach_probes``' work, in place: each probed rule's evidence on its findings."""
    from preflight.findings import Severity

    is_table = isinstance(subject, TableSubject)  # even when it sampled no rows
    trained: Trained = {}
    for code, idx in by_code.items():
        rule = rules[code]
        fix = fix_of(rule, subject)
        assert fix is not None  # _probed keeps rules with a fix only
        ev, why = user_probe(rule, fix, subject, settings, [findings[i] for i in idx], probe_arrays)  # live
        if ev is not None:
            pass
        elif is_table:
            flagged = list(dict.fromkeys(findings[i].location.column for i in idx if findings[i].location.column))
            ev = _probe_subject(subject, rule, flagged, settings, trained)
        else:  # code, not data: the fix's recorded evidence on its catalog example or reference data
            ev = reference_evidence(code, fix)
        if ev is None:
            continue
        ev = ev.with_notes(f"not probed on the user's model: {why}") if why else ev
        # only a measurement on the user's own rows can lower a finding; reference evidence informs
        severity = Severity.INFO if ev.verdict == "not_reproduced" and ev.data == "user" else None
        for i in idx:
            findings[i] = findings[i].with_probe(ev, severity)


# --- engine wiring -------------------------------------------------------------------------------

def settings_from_config(table: Any, source: str = "config",
                         overrides: Mapping[str, Any] | None = None) -> ProbeSettings:
    """``ProbeSettings`` from ``[tool.preflight.probe]``, then ``overrides`` (the command line's, None =
    not given). ``table`` is a ``Config`` (its ``probe`` was validated when it loaded) or a raw table
    (validated here; the schema is ``preflight.config.PROBE_KEYS``). When the probe is on, a device
    torch does not have here is a ``PreflightError``."""
    from preflight.config import Config, validate_probe_table
    from preflight.errors import PreflightError
    from preflight.probes.settings import device_problem, numpy_device_problem

    if isinstance(table, Config):
        source = table.source or source
        values = dict(table.probe)
    else:
        values = validate_probe_table(table or {}, source)
    values.update((k, v) for k, v in (overrides or {}).items() if v is not None)
    settings = ProbeSettings(**values)
    if numpy_device_problem(settings) is not None:
        raise PreflightError(f"{source}: [tool.preflight.probe] trainer = \"numpy\" trains on the CPU only, not "
                             f"device = {settings.device!r}; set trainer = \"torch\" (or \"auto\") for that device")
    problem = device_problem(settings.device) if settings.enabled else None
    if problem is not None:
        raise PreflightError(f"{source}: [tool.preflight.probe] device = {settings.device!r} cannot be used: "
                             f"{problem}; set device = \"cpu\", or run without the probe (--no-probe)")
    return settings


def make_hook(**overrides: Any) -> Callable[[list[Any], Any, Any], list[Any]]:
    """The engine's probe hook: ``(findings, subject, config) -> findings`` with evidence attached.

    ``overrides`` are ``ProbeSettings`` fields from the command line (None = use the config's).
    ``hook.trains(findings, subject, config)`` says for how many findings the hook will train
    (``probe_trains``), so that the engine announces only real trainings.
    """
    built: dict[int, tuple[Any, ProbeSettings]] = {}  # id(config) -> (config, its settings): built once a run

    def settings(config: Any) -> ProbeSettings:
        from preflight.config import Config

        known = built.get(id(config))
        if known is None or known[0] is not config:
            source = getattr(config, "source", None) or "config"
            conf = config if isinstance(config, Config) else getattr(config, "probe", {}) or {}
            known = built[id(config)] = (config, settings_from_config(conf, source, overrides))
        return known[1]

    def hook(findings: list[Any], subject: Any, config: Any) -> list[Any]:
        from preflight.checks import RULES_BY_CODE

        return attach_probes(findings, subject, settings(config), rules=RULES_BY_CODE)

    def trains(findings: list[Any], subject: Any, config: Any) -> int:
        from preflight.checks import RULES_BY_CODE

        return probe_trains(findings, subject, settings(config), rules=RULES_BY_CODE)

    hook.trains = trains  # type: ignore[attr-defined]
    return hook
