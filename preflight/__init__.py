"""preflight: find the data and setup mistakes that make PyTorch training fail silently.

The public API and nothing else. Importing preflight does not import torch.
"""

from preflight.errors import PreflightError
from preflight.findings import Finding, Location, Report, Severity, use_text_renderer
from preflight.report.text import render_text
from preflight.version import __version__

use_text_renderer(render_text)  # str(report) is the text report; findings cannot import report itself


def check(obj, *, target=None, model=None, loss=None, probe=True, select=None, ignore=None, config=None,
          task=None, optimizer=None, probe_budget=None, engine=None, address=None):
    """Check data (paths, a DataFrame, an array or Tensor, a Dataset or DataLoader) and, with
    ``model=`` and ``loss=``, the training setup, before training. Returns a ``Report``.

    See ``preflight.api.check`` for the arguments. Never prints and never exits.
    """
    from preflight.api import check as _check

    return _check(obj, target=target, model=model, loss=loss, probe=probe, select=select, ignore=ignore,
                  config=config, task=task, optimizer=optimizer, probe_budget=probe_budget, engine=engine,
                  address=address)


_PARTITIONS = ("table_layout", "partition_statistics", "merge_statistics")


def __getattr__(name):
    """The partition-statistics core (``preflight.stats.partition``), imported when first used."""
    if name in _PARTITIONS:
        from preflight.stats import partition

        return getattr(partition, name)
    raise AttributeError(f"module 'preflight' has no attribute {name!r}")


__all__ = ["check", "table_layout", "partition_statistics", "merge_statistics", "Report", "Finding", "Location",
           "Severity", "PreflightError", "__version__"]
