"""``PreflightCallback``: the live check at the start of a Lightning fit (extra ``pytorch-preflight[lightning]``).

It runs ``preflight.check`` on the trainer's train dataloader, the ``LightningModule`` (called as the
model: its ``forward``), the loss where it can find one (an attribute ``loss``, ``criterion``,
``loss_fn``, ``loss_func`` or ``loss_function``, or the only child module whose class ends in
``Loss``) and the optimizer (when ``configure_optimizers`` returned exactly one). When the loader was
passed to ``trainer.fit`` directly, it runs in ``on_fit_start``; a loader from a ``train_dataloader()``
hook is read in ``on_train_start``, once Lightning has built it (so the user's hook is not called an
extra time), still before the first step. The report goes to the ``preflight.lightning`` logger; with
``fail_on`` set (default ``"warning"``) findings at or above it stop the fit by raising
``preflight.errors.FindingsError`` with the report in its message. ``fail_on=None`` only logs.

    from preflight.lightning import PreflightCallback
    trainer = L.Trainer(callbacks=[PreflightCallback()])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from preflight.version import DISTRIBUTION

try:
    from lightning.pytorch import Callback
except ImportError:  # pragma: no cover - the standalone package
    try:
        from pytorch_lightning import Callback  # type: ignore[no-redef,assignment]
    except ImportError as exc:
        raise ImportError(f'preflight.lightning needs Lightning: pip install "{DISTRIBUTION}[lightning]"') from exc

log = logging.getLogger("preflight.lightning")
LOSS_ATTRS = ("loss", "criterion", "loss_fn", "loss_func", "loss_function")


def find_loss(module: Any) -> Any:
    """The module's loss, where it can be found (see the module docstring), else None."""
    for name in LOSS_ATTRS:
        value = getattr(module, name, None)
        if value is not None and callable(value) and not _is_bound_method_of(value, module):
            return value
    losses = [m for m in module.children() if type(m).__name__.endswith("Loss")]
    return losses[0] if len(losses) == 1 else None


def _is_bound_method_of(value: Any, module: Any) -> bool:
    return getattr(value, "__self__", None) is module


def _direct_loader(trainer: Any) -> Any:
    """The train loader passed to ``trainer.fit`` itself, or None (a hook builds it later)."""
    from torch.utils.data import DataLoader

    source = getattr(getattr(trainer, "fit_loop", None), "_data_source", None)
    instance = getattr(source, "instance", None)
    return instance if isinstance(instance, DataLoader) else None


class PreflightCallback(Callback):  # type: ignore[misc]
    """Runs preflight's live check before the first training step (see the module docstring)."""

    def __init__(self, fail_on: str | None = "warning", probe: bool = True, loss: Any = None,
                 select: Iterable[str] | None = None, ignore: Iterable[str] | None = None, config: Any = None,
                 probe_budget: float | None = None) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.probe = probe
        self.loss = loss
        self.select = select
        self.ignore = ignore
        self.config = config
        self.probe_budget = probe_budget
        self.report: Any = None  # the last report, for the caller to read

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        loader = _direct_loader(trainer)
        if loader is not None:
            self._run(loader, trainer, pl_module)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if self.report is None:
            self._run(trainer.train_dataloader, trainer, pl_module)

    def _run(self, loader: Any, trainer: Any, pl_module: Any) -> None:
        import preflight

        opts = list(getattr(trainer, "optimizers", []) or [])
        optimizer = opts[0] if len(opts) == 1 else None
        self.report = report = preflight.check(
            loader, model=pl_module, loss=self.loss if self.loss is not None else find_loss(pl_module),
            optimizer=optimizer, probe=self.probe, select=self.select, ignore=self.ignore, config=self.config,
            probe_budget=self.probe_budget)
        if report.findings:
            log.warning("preflight found problems before training:\n%s", report)
        else:
            log.info("preflight: no problems found before training")
        if self.fail_on is not None:
            report.raise_for_findings(self.fail_on)
