"""``preflight.check(...)``: the library call a training script makes before training."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from preflight import config as cfg
from preflight.engine import RunOptions, check_paths, check_subjects
from preflight.errors import PreflightError
from preflight.findings import Report
from preflight.inputs.frame import frame_subject
from preflight.inputs.files import array_subject
from preflight.inputs.tabular import ReadOptions


def check(obj: Any, *, target: Any = None, model: Any = None, loss: Any = None, probe: bool = True,
          select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
          config: "cfg.Config | Mapping[str, Any] | str | os.PathLike | None" = None) -> Report:
    """Check ``obj`` and return a ``Report``.

    ``obj`` is a path or a list of paths (files or directories), a pandas DataFrame (``target=`` a
    column name), a NumPy array or a torch Tensor of features (``target=`` an array of labels).
    ``config`` is a ``Config``, a ``[tool.preflight]``-style mapping, or a path to a TOML file;
    by default it is discovered from the current directory. Bad input raises ``PreflightError``.
    """
    conf = _config(config)
    conf = conf.with_overrides(select=list(select or []), ignore=list(ignore or []),
                               target=target if isinstance(target, str) else None)
    options = RunOptions(probe=probe)
    if isinstance(obj, (str, os.PathLike)) or (isinstance(obj, (list, tuple)) and obj
                                               and all(isinstance(o, (str, os.PathLike)) for o in obj)):
        paths = [obj] if isinstance(obj, (str, os.PathLike)) else list(obj)
        report = check_paths(paths, conf, options)
        if report.errors:
            raise PreflightError("; ".join(report.errors))
        return report
    report = check_subjects([lambda: _subject(obj, target, conf)], conf, options)
    if report.errors:  # as for paths: bad input raises, it is not a report with no findings
        raise PreflightError("; ".join(report.errors))
    return report


def _subject(obj: Any, target: Any, conf: cfg.Config) -> Any:
    kind = type(obj).__module__.split(".")[0]
    if kind == "pandas" and hasattr(obj, "columns"):
        return frame_subject(obj, target=conf.target, display="<DataFrame>")
    if kind == "polars" and hasattr(obj, "columns"):
        return frame_subject(obj, target=conf.target, display="<DataFrame>")
    if kind == "torch" and hasattr(obj, "detach"):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        labels = target
        if labels is not None and hasattr(labels, "detach"):
            labels = labels.detach().cpu().numpy()
        if isinstance(labels, str):
            labels = None
        return array_subject(obj, None if labels is None else np.asarray(labels), display="<array>", path=None,
                             options=ReadOptions(target=None))
    raise PreflightError(f"preflight.check cannot read a {type(obj).__name__}: pass a path, a DataFrame, "
                         "an array or a Tensor")


def _config(config: Any) -> cfg.Config:
    if config is None:
        return cfg.load(cfg.discover())
    if isinstance(config, cfg.Config):
        return config
    if isinstance(config, Mapping):
        return cfg.from_table(config, source="config")
    return cfg.load(Path(config))
