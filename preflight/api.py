"""``preflight.check(...)``: the library call a training script makes before training."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from preflight import config as cfg
from preflight.engine import RunOptions, check_paths, check_subjects
from preflight.errors import PreflightError
from preflight.findings import Report
from preflight.inputs.files import array_subject
from preflight.inputs.frame import frame_subject
from preflight.inputs.options import ReadOptions
from preflight.inputs.tensors import is_tensor, tensor_numpy


def check(obj: Any, *, target: Any = None, model: Any = None, loss: Any = None, probe: bool = True,
          select: Iterable[str] | None = None, ignore: Iterable[str] | None = None, task: str | None = None,
          config: cfg.Config | Mapping[str, Any] | str | os.PathLike | None = None,
          optimizer: Any = None, probe_budget: float | None = None, engine: str | None = None,
          address: str | None = None) -> Report:
    """Check ``obj`` and return a ``Report``.

    ``obj`` is a path or a list of paths (files or directories), a pandas DataFrame (``target=`` a
    column name), a NumPy array or a torch Tensor of features (``target=`` an array of labels), a
    torch ``Dataset`` or a ``DataLoader``. ``model=`` (an ``nn.Module``) and ``loss=`` (a loss module
    or a ``torch.nn.functional`` loss) are checked against each other and against one batch of the
    loader or dataset (one forward pass under ``no_grad``; at most a bounded number of batches read).
    A loader's or dataset's batches (and a Tensor of images or sequences) are also read into per-feature
    or per-channel statistics for the data rules; with ``model=`` and ``loss=`` the PF4xx rules measure
    the model at initialization, and the probe trains copies of the user's own model (``optimizer=``: a
    fresh optimizer of its class and hyperparameters per copy, else Adam lr 1e-3) within
    ``probe_budget=`` seconds in all (default: the configured probe budget). The user's objects, RNG
    states and modes are left exactly as they were.
    ``engine=`` ("local", "spark" or "ray", with ``address=`` the master or cluster) reads each path
    (a folder or ``s3://`` prefix of shards) as one table, as ``preflight check --engine`` does.
    ``config`` is a ``Config``, a ``[tool.preflight]``-style mapping, or a path to a TOML file;
    by default it is discovered from the current directory. Bad input raises ``PreflightError``.
    """
    conf = _config(config)
    conf = conf.with_overrides(select=_codes(select, "select"), ignore=_codes(ignore, "ignore"),
                               target=target if isinstance(target, str) else None, target_source="target=",
                               task=task, task_source="task=", codes_source="=")
    hook = None
    if probe:
        from preflight.probes import make_hook, settings_from_config

        settings_from_config(conf)  # a device torch lacks here: raised now, before any input is read
        hook = make_hook() if probe_budget is None else make_hook(budget=_budget(probe_budget))
    options = RunOptions(probe=probe, probe_hook=hook)
    setup = model is not None or loss is not None
    obj = _as_dataset(obj, target)
    if _is_torch_data(obj) or (obj is None and setup):
        return _live_report(obj, model, loss, optimizer, conf, options)
    elif isinstance(obj, (str, os.PathLike)) or (isinstance(obj, (list, tuple)) and obj
                                                 and all(isinstance(o, (str, os.PathLike)) for o in obj)):
        paths = [obj] if isinstance(obj, (str, os.PathLike)) else list(obj)
        report = check_paths(paths, conf, options) if engine is None else _engine_paths(paths, engine, address,
                                                                                        conf, options)
        if setup and not report.errors:
            report = _merge(report, check_subjects([lambda: _setup_subject(None, model, loss, conf)], conf,
                                                   options))
    else:
        subjects = [lambda: _subject(obj, target, conf)]
        if setup:
            subjects.append(lambda: _setup_subject(None, model, loss, conf))
        report = check_subjects(subjects, conf, options)
    if report.errors:  # bad input raises, whatever the kind of input
        raise PreflightError("; ".join(report.errors))
    return report


def _engine_paths(paths: list[Any], engine: str, address: str | None, conf: cfg.Config, options: RunOptions) -> Report:
    from preflight.integrations.engines import ENGINES, engine_report

    if engine not in ENGINES:
        raise PreflightError(f"engine={engine!r} is not one of {', '.join(map(repr, ENGINES))}")
    return engine_report([os.fspath(p) for p in paths], engine, address, conf, options)


def _is_torch_data(obj: Any) -> bool:
    """A DataLoader or Dataset, recognised without importing torch when torch was never imported."""
    import sys

    if "torch" not in sys.modules:
        return False
    from preflight.inputs.torch_objects import is_dataset, is_loader

    return is_loader(obj) or is_dataset(obj)


def _as_dataset(obj: Any, target: Any) -> Any:
    """A Tensor of images or sequences (3-D or more) as a ``TensorDataset`` (with ``target=``'s labels)."""
    if type(obj).__module__.split(".")[0] != "torch" or getattr(obj, "ndim", 0) < 3:
        return obj
    from torch.utils.data import TensorDataset

    return TensorDataset(obj) if target is None or isinstance(target, str) else TensorDataset(obj, target)


def _live_report(obj: Any, model: Any, loss: Any, optimizer: Any, conf: cfg.Config, options: RunOptions) -> Report:
    """The live path: the setup subject (samplers, the model, PF3xx, PF4xx) and the batch subject (data rules)."""
    from dataclasses import replace

    from preflight.checks import RULES_BY_CODE
    from preflight.inputs.batches import normalize_fix
    from preflight.inputs.torch_objects import live_subjects

    max_batches = max(1, int(conf.options_for(RULES_BY_CODE["PF204"])["max_batches"]))
    setup, batches = live_subjects(obj, model=model, loss=loss, optimizer=optimizer, max_batches=max_batches)
    subjects = [lambda: setup] + ([lambda: batches] if batches is not None else [])
    report = check_subjects(subjects, conf, options)
    fix = normalize_fix(batches) if batches is not None else None
    if fix is not None and batches is not None:  # image channels: the fix line a user expects, measured
        found = [replace(f, fix=fix) if f.code in ("PF101", "PF102") and f.location.path == batches.display else f
                 for f in report.findings]
        report = Report.build(found, dict(report.summary), list(report.errors))
    if report.errors:
        raise PreflightError("; ".join(report.errors))
    return report


def _setup_subject(obj: Any, model: Any, loss: Any, conf: cfg.Config) -> Any:
    from preflight.checks import RULES_BY_CODE
    from preflight.inputs.torch_objects import setup_subject

    max_batches = int(conf.options_for(RULES_BY_CODE["PF204"])["max_batches"])
    return setup_subject(obj, model=model, loss=loss, max_batches=max(1, max_batches))


def _merge(a: Report, b: Report) -> Report:
    summary = dict(a.summary)
    summary["files"] = list(a.summary.get("files", [])) + list(b.summary.get("files", []))
    return Report.build(list(a.findings) + list(b.findings), summary, list(a.errors) + list(b.errors))


def _subject(obj: Any, target: Any, conf: cfg.Config) -> Any:
    kind = type(obj).__module__.split(".")[0]
    if type(obj).__name__ == "TableStats" and type(obj).__module__ == "preflight.stats.table":
        return _statistics_subject(obj, target, conf)
    if kind in ("pyspark", "ray"):
        return _engine_subject(obj, conf)
    if kind in ("pandas", "polars") and (type(obj).__name__ == "LazyFrame" or hasattr(obj, "columns")):
        return frame_subject(obj, target=conf.target, display="<DataFrame>", target_source=conf.target_source,
                             task=conf.task, task_source=conf.task_source)
    if kind == "torch" and is_tensor(obj):
        obj = tensor_numpy(obj, "the Tensor passed to preflight.check")
    if isinstance(obj, np.ndarray):
        labels = target
        if labels is not None and is_tensor(labels):
            labels = tensor_numpy(labels, "target=")
        if isinstance(labels, str):
            raise PreflightError(f"target={labels!r} names a column, but an array has none: pass the labels "
                                 "themselves (an array or Tensor with one label per row)")
        if labels is not None and np.ndim(labels) == 0:
            raise PreflightError(f"target= must be the labels, one per row (an array or Tensor), or a column name "
                                 f"for a DataFrame; not {labels!r}")
        return array_subject(obj, None if labels is None else np.asarray(labels), display="<array>", path=None,
                             options=ReadOptions(target=None, task=conf.task, task_source=conf.task_source))
    raise PreflightError(f"preflight.check cannot read a {type(obj).__name__}: pass a path, a DataFrame, "
                         "an array or a Tensor")


def _statistics_subject(stats: Any, target: Any, conf: cfg.Config) -> Any:
    """Merged partition statistics (``preflight.merge_statistics``): the target is the layout's."""
    from preflight.inputs.tabular import table_subject

    layout = stats.layout
    if layout is None or stats.n_rows == 0:
        raise PreflightError("preflight.check was given statistics of no rows, or not made by "
                             "preflight.partition_statistics")
    if target is not None and target != layout.target:
        raise PreflightError(f"target={target!r}, but the statistics were measured with target "
                             f"{layout.target!r}: pass target= to preflight.table_layout instead")
    return table_subject(stats, path=None, display="<statistics>", reason="given to preflight.table_layout",
                         options=ReadOptions(target=layout.target, task=conf.task, task_source=conf.task_source))


def _engine_subject(obj: Any, conf: cfg.Config) -> Any:
    """A Spark DataFrame or a Ray Dataset: measured on its cluster (``preflight.integrations.engines``)."""
    from preflight.inputs.tabular import table_subject
    from preflight.integrations import engines

    options = ReadOptions(target=conf.target, target_source=conf.target_source, task=conf.task,
                          task_source=conf.task_source)
    if engines.is_spark_frame(obj):
        stats, reason = engines.spark_statistics(obj, conf.target, conf.target_source)
        display = engines.SPARK_DISPLAY
    elif engines.is_ray_dataset(obj):
        stats, reason = engines.ray_statistics(obj, conf.target, conf.target_source)
        display = engines.RAY_DISPLAY
    else:
        raise PreflightError(f"preflight.check cannot read a {type(obj).__name__}: pass a Spark DataFrame, a Ray "
                             "Dataset, a path, a DataFrame, an array or a Tensor")
    return table_subject(stats, path=None, display=display, options=options, reason=reason)


def _codes(codes: Any, name: str) -> list[str]:
    """``select=`` / ``ignore=``: one code or prefix (``"PF101"``, ``"PF1,PF2"``) or an iterable of them."""
    if codes is None:
        return []
    if isinstance(codes, str):
        return [codes]
    try:
        out = list(codes)
    except TypeError:
        out = None
    if out is None or not all(isinstance(c, str) for c in out):
        raise PreflightError(f'{name}= must be a rule code or a list of them, like {name}=["PF101"]; '
                             f"not {codes!r}")
    return out


def _budget(value: Any) -> float:
    """``probe_budget=``: seconds, a number at least 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise PreflightError(f"probe_budget= must be a number of seconds, at least 0; not {value!r}")
    return float(value)


def _config(config: Any) -> cfg.Config:
    if config is None:
        return cfg.load(cfg.discover())
    if isinstance(config, cfg.Config):
        return config
    if isinstance(config, Mapping):
        return cfg.from_table(config, source="config=")
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.is_file():
            raise PreflightError("is a folder, not a config file (config=)" if path.is_dir()
                                 else "no such config file (config=)", path)
        return cfg.load(path)
    raise PreflightError(f"config= must be a Config, a [tool.preflight]-style mapping or the path of a TOML "
                         f"file, not {type(config).__name__}")
