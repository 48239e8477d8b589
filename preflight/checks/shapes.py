"""PF307: a loss given an output and a target whose shapes broadcast to a matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from preflight.checks.base import Rule
from preflight.findings import Finding
from preflight.inputs.batches import LiveSetupSubject
from preflight.inputs.model_stats import broadcast_shape

ELEMENTWISE = ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "mse_loss", "l1_loss", "smooth_l1_loss",
               "huber_loss")


def silent_broadcast(out: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape an elementwise loss compares when ``out`` and ``target`` differ but broadcast to a larger
    shape than ``out`` ((N, 1) and (N,) give (N, N)); None when the shapes match or do not broadcast."""
    if out == target:
        return None
    shape = broadcast_shape(out, target)
    return shape if shape is not None and shape != out else None


class BroadcastLossShapes(Rule):
    """
    ## What it does
    Runs the model on one live batch and flags an elementwise loss (`nn.MSELoss`, `F.mse_loss`,
    `nn.L1Loss`, `nn.SmoothL1Loss`, `nn.HuberLoss`) given an output and a target whose
    shapes differ but broadcast: an output of shape (N, 1) and a target of shape (N,) become (N, N).

    ## Why is this bad?
    The loss then compares every prediction with every target: its minimum is the target's mean for
    every sample, so a regression model learns a constant and the loss looks reasonable. PyTorch
    only warns (once, easily missed). The BCE losses are left out: given (N, 1) and (N,) they raise a
    `ValueError` ("Target size ... must be the same as input size"), which no one misses.

    ## Example
    `nn.Linear(8, 1)` and `nn.MSELoss()` with `y` of shape (N,).

    ## How to fix
    Make the shapes equal: `loss(out.squeeze(1), y)` or `loss(out, y.unsqueeze(1))`.

    ## Options
    None. Checked on one live batch; the static check of scripts is not implemented.

    ## References
    - PyTorch docs, *Broadcasting semantics*; the UserWarning of `F.mse_loss` ("Using a target size
      that is different to the input size").
    """

    code = "PF307"
    name = "broadcast-loss-shapes"
    summary = "An elementwise loss gets output (N, 1) and target (N,), which broadcast to (N, N)."
    subject = LiveSetupSubject
    fix = "make the shapes equal: loss(out.squeeze(1), y) or loss(out, y.unsqueeze(1))"

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        live = subject.live
        f = live.facts if live is not None else None
        if f is None or f.output_shape is None or f.target_shape is None:
            return
        loss = live.loss if live is not None else None
        elementwise = type(loss).__name__ in ELEMENTWISE or getattr(loss, "__name__", "") in ELEMENTWISE
        shape = silent_broadcast(f.output_shape, f.target_shape) if elementwise else None
        if shape is not None:
            yield self.finding(f"the model's output has shape {f.output_shape} and the target {f.target_shape}: "
                               f"{subject.loss_name or type(loss).__name__} broadcasts them to {shape} and "
                               "compares every prediction with every target", path=subject.display)
