"""PF4xx: the user's model at initialization (measured by ``preflight.inputs.model_stats``).

Each rule reads ``LiveSetupSubject.live.facts`` (a ``TrainingFacts``: one forward and backward pass of
a copy of the model on one batch, and a short overfit run), computes its statistic with a pure function
and judges it against named options. Thresholds follow AUTOTRAINER (Zhang et al., ICSE 2021: dying ReLU
at 70% dead units, saturation) and DeepDiagnosis (Wardat et al., ICSE 2022: vanishing gradients below 1e-7).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from preflight.checks.base import Option, Rule
from preflight.checks.scale import fmt
from preflight.findings import Finding
from preflight.inputs.batches import LiveSetupSubject
from preflight.inputs.model_stats import TrainingFacts


def facts_of(subject: LiveSetupSubject) -> TrainingFacts | None:
    return subject.live.facts if subject.live is not None else None


# --- measure ---------------------------------------------------------------------------------

def expected_init_loss(classes: int) -> float:
    """The loss of a uniform prediction over ``classes`` classes: ln K (0.693 for a binary loss)."""
    return math.log(classes)


def gradient_ratio(grads: Sequence[tuple[str, float | None]]) -> tuple[float, str, float, str, float] | None:
    """(largest / smallest, largest name, its norm, smallest name, its norm) over weight gradients that exist."""
    have = [(n, g) for n, g in grads if g is not None and n.endswith("weight")]
    if len(have) < 2:
        return None
    big = max(have, key=lambda t: t[1])
    small = min(have, key=lambda t: t[1])
    ratio = math.inf if small[1] == 0 else big[1] / small[1]
    return ratio, big[0], big[1], small[0], small[1]


# --- judge -----------------------------------------------------------------------------------

class InitLossFarFromExpected(Rule):
    """
    ## What it does
    Measures the loss of the user's model on one batch at initialization and flags it when it is far
    above the loss of a uniform prediction, ln K for K classes (0.693 for a binary loss).

    ## Why is this bad?
    A freshly initialised classifier should be unsure: its first loss is about ln K. A first loss of
    40 means huge logits from the first step (unnormalized inputs, a mis-scaled last layer, a wrong
    target encoding); the first updates then go to undoing the initialization, or to dead units.

    ## Example
    A 10-class CNN on 0..255 digits pixels starts at a loss of 60 where ln 10 = 2.30.

    ## How to fix
    Normalize the inputs; initialise the last layer small (or its bias to the log class prior).

    ## Options
    - `max_ratio` (default 2.0): fire when the initial loss exceeds this many times ln K ...
    - `min_excess` (default 1.0): ... and exceeds ln K by at least this many nats.
    Calibrated (/work/calib/10-calibrate_pf4xx.py) on default-initialised MLPs, tanh MLPs, a CNN and a
    ResNet-style block with batch norm on standardized scikit-learn digits, iris and wine: initial loss
    within 0.32 of ln K (2.62 for ln 10 = 2.30 at most); on raw 0..255 digits and raw wine the ReLU
    MLP and CNN start at 11.8 to 60.

    ## References
    - Karpathy, *A Recipe for Training Neural Networks*, 2019 ("verify loss @ init").
    """

    code = "PF401"
    name = "init-loss-far-from-expected"
    summary = "The loss at initialization is far above ln K, the loss of a uniform prediction."
    subject = LiveSetupSubject
    fix = "normalize the inputs and initialise the last layer small (its bias at the log class prior)"
    options = (Option("max_ratio", 2.0, "fire when the initial loss exceeds this many times ln K", low=1.0),
               Option("min_excess", 1.0, "and exceeds ln K by at least this many nats", low=0.0))

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        if f is None or f.init_loss is None or not f.classes or f.classes < 2:
            return
        expected = expected_init_loss(f.classes)
        loss = f.init_loss
        if not math.isfinite(loss) or (loss > opts["max_ratio"] * expected and loss - expected > opts["min_excess"]):
            yield self.finding(f"loss at initialization {fmt(loss)} on one batch of {f.samples} where a uniform "
                               f"prediction over {f.classes} classes gives ln {f.classes} = {fmt(expected)} "
                               f"(> {fmt(opts['max_ratio'])}x)", path=subject.display)


class CannotOverfitOneBatch(Rule):
    """
    ## What it does
    Trains a copy of the model on one small batch (at most 32 samples, 100 Adam steps, lr 1e-3) and
    flags it when the loss barely moves. The step count is cut, deterministically, for a large model:
    3 x its forward multiply-adds x samples x steps stay under 2e10 (about 2 s on a 2-core CPU); under
    30 steps left and the run is not made (a note says so).

    ## Why is this bad?
    Any working network memorizes 32 samples quickly. When it cannot, something upstream is broken:
    a detached graph (`.detach()`, `.item()`, `torch.no_grad()` in `forward`), frozen layers, targets
    that do not match the inputs, or a loss that ignores the output.

    ## Example
    A model whose `forward` returns `self.net(x).detach()`.

    ## How to fix
    Check that gradients reach the parameters (`loss.backward()` then `p.grad`), that the targets belong
    to the inputs, and that `requires_grad` is set.

    ## Options
    - `min_drop` (default 0.1): fire when the lowest loss is above (1 - min_drop) x the first loss.
    Silent when PF403, PF404 or PF405 fire on the same model, or PF301-PF306 on its output and loss:
    they already say why it cannot learn.
    Calibrated on 32 samples of scikit-learn digits, iris and wine: healthy MLPs, tanh MLPs, a CNN and a
    ResNet-style block drop the loss by 20% to 100% in 100 steps; ten stacked sigmoid layers drop it by
    0.3% to 19% (they fire, and PF405 says why); a detached output drops it by 0%.

    ## References
    - Karpathy, *A Recipe for Training Neural Networks*, 2019 ("overfit one batch").
    """

    code = "PF402"
    name = "cannot-overfit-one-batch"
    summary = "A copy of the model cannot lower its loss on one batch of 32 samples."
    subject = LiveSetupSubject
    fix = "check that gradients reach the parameters (no .detach() or no_grad in forward), and that targets match"
    options = (Option("min_drop", 0.1, "fire when the lowest loss is above (1 - min_drop) x the first", low=0.0,
                      high=1.0),)
    # dead units, saturation, vanishing gradients or a mismatched output and loss already say why
    superseded_by = ("PF301", "PF302", "PF303", "PF304", "PF305", "PF306", "PF403", "PF404", "PF405")

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        if f is None or f.overfit is None:
            return
        first, best, steps = f.overfit
        if math.isfinite(first) and first > 0 and best > (1 - opts["min_drop"]) * first:
            yield self.finding(f"{steps} Adam steps (lr 1e-3) on one batch of {min(f.samples, 32)} samples lowered "
                               f"the loss from {fmt(first)} to {fmt(best)} only ({fmt(100 * (1 - best / first))}%; "
                               f"a working model drops it by more than {fmt(100 * opts['min_drop'])}%)",
                               path=subject.display)


class DeadReluAtInit(Rule):
    """
    ## What it does
    Flags an `nn.ReLU` layer of which most units output 0 for every sample of one batch at
    initialization.

    ## Why is this bad?
    A unit that is 0 for every input gets no gradient and never recovers: the layer is narrower than
    it looks, and a whole layer dead blocks every gradient below it. At initialization this usually
    comes from unnormalized inputs or a large negative bias.

    ## Example
    `nn.Linear(8, 64)` with its bias set to -10, then `nn.ReLU()`.

    ## How to fix
    Normalize the inputs; keep the default (He/Kaiming) initialization and biases near 0; or use
    LeakyReLU.

    ## Options
    - `max_dead` (default 0.7): fire when more than this share of a layer's units are dead (AUTOTRAINER's
      threshold). Measured on batches of 32 of digits, iris and wine: at most 9% dead with standardized
      inputs, 50% on raw wine (silent).

    ## References
    - Zhang et al., *AUTOTRAINER*, ICSE 2021 (dying ReLU at 70%).
    - Lu et al., *Dying ReLU and Initialization*, 2019.
    """

    code = "PF403"
    name = "dead-relu-at-init"
    summary = "Most units of a ReLU layer output 0 for every sample at initialization."
    subject = LiveSetupSubject
    fix = "normalize the inputs and keep biases near 0 (or use LeakyReLU)"
    options = (Option("max_dead", 0.7, "fire when more than this share of a layer's units are dead", low=0.0,
                      high=1.0),)

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        for name, dead, units in (f.relu if f is not None else []):
            if dead > opts["max_dead"]:
                yield self.finding(f"ReLU {name!r}: {fmt(100 * dead)}% of its {units} units are 0 for all "
                                   f"{f.samples if f else 0} samples of one batch at initialization "
                                   f"(> {fmt(100 * opts['max_dead'])}%)", path=subject.display, column=name)


class SaturatedActivationAtInit(Rule):
    """
    ## What it does
    Flags an `nn.Sigmoid` or `nn.Tanh` layer (not the output activation) whose inputs are beyond +-5
    for most of its units on one batch at initialization.

    ## Why is this bad?
    sigmoid'(5) = 0.0066 and tanh'(5) = 0.00018: a saturated unit passes almost no gradient, so the
    layers below it barely learn. Unnormalized inputs saturate a first sigmoid/tanh layer at once.

    ## Example
    `nn.Linear(4, 16)` then `nn.Tanh()` on features centred at 50.

    ## How to fix
    Normalize the inputs (the probe's fix), or initialise with Xavier/Glorot.

    ## Options
    - `max_saturated` (default 0.5): fire when more than this share of the layer's inputs are beyond
      +-5 (the threshold AUTOTRAINER and DeepDiagnosis use). Measured: standardized digits, iris and
      wine give 0%; a tanh MLP on raw digits 94%, raw wine 96%.

    ## References
    - Glorot and Bengio, *Understanding the difficulty of training deep feedforward networks*, 2010.
    - Zhang et al., *AUTOTRAINER*, ICSE 2021.
    """

    code = "PF404"
    name = "saturated-activation-at-init"
    summary = "Most inputs of a sigmoid or tanh layer are beyond +-5 at initialization."
    subject = LiveSetupSubject
    fix = "normalize the inputs (or initialise with Xavier/Glorot)"
    options = (Option("max_saturated", 0.5, "fire when more than this share of inputs are beyond +-5", low=0.0,
                      high=1.0),)

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        for name, kind, share, units in (f.saturated if f is not None else []):
            if share > opts["max_saturated"]:
                yield self.finding(f"{kind} {name!r}: {fmt(100 * share)}% of the inputs of its {units} units are "
                                   f"beyond +-5 at initialization (> {fmt(100 * opts['max_saturated'])}%), where "
                                   "its gradient is under 0.007", path=subject.display, column=name)


class VanishingOrExplodingGradients(Rule):
    """
    ## What it does
    Computes each weight's gradient norm after one backward pass at initialization and flags a
    model whose largest and smallest differ by orders of magnitude, or whose smallest is below 1e-7.

    ## Why is this bad?
    With one learning rate, a layer whose gradient is 10,000 times smaller than another's does not
    learn while the other diverges: deep sigmoid stacks vanish, unnormalized inputs and missing
    normalization explode.

    ## Example
    An MLP of ten `nn.Sigmoid` layers.

    ## How to fix
    Use ReLU-family activations with He initialization, normalization layers (BatchNorm/LayerNorm),
    residual connections; normalize the inputs.

    ## Options
    - `max_ratio` (default 1e4): fire when largest / smallest weight gradient norm exceeds this.
    - `min_norm` (default 1e-7): fire when a weight's gradient norm is below this (DeepDiagnosis).
    Calibrated on digits, iris and wine: default-initialised MLPs, a small CNN and a ResNet-style block
    with batch norm give ratios of 1.4 to 63 and smallest norms of 0.07 or more; ten sigmoid layers give
    ratios of 2e7 to 1.2e8 and smallest norms of 3e-9 to 1.5e-8.

    ## References
    - Wardat et al., *DeepDiagnosis*, ICSE 2022 (vanishing below 1e-7).
    - Glorot and Bengio, 2010.
    """

    code = "PF405"
    name = "vanishing-or-exploding-gradients"
    summary = "Weight gradient norms at initialization differ by orders of magnitude, or vanish."
    subject = LiveSetupSubject
    fix = "use ReLU with He init, normalization layers or residual connections; normalize the inputs"
    options = (Option("max_ratio", 1e4, "fire when largest / smallest weight gradient norm exceeds this", low=1.0),
               Option("min_norm", 1e-7, "fire when a weight's gradient norm is below this", low=0.0))

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        r = gradient_ratio(f.grads) if f is not None else None
        if r is None:
            return
        ratio, big, big_norm, small, small_norm = r
        if ratio > opts["max_ratio"] or small_norm < opts["min_norm"]:
            yield self.finding(f"weight gradient norms at initialization range from {fmt(small_norm)} ({small}) to "
                               f"{fmt(big_norm)} ({big}), a ratio of {fmt(ratio)} (> {fmt(opts['max_ratio'])}, "
                               f"or a norm < {fmt(opts['min_norm'])})", path=subject.display, column=small)


class ParameterWithoutGradient(Rule):
    """
    ## What it does
    Flags trainable parameters that receive no gradient from the loss on one batch (their `.grad`
    stays None after `backward()`), and trainable parameters that `optimizer=` does not hold.

    ## Why is this bad?
    A layer the forward pass never uses, or uses through a detached tensor, never trains. A layer added
    to the model after the optimizer was built (`optimizer = Adam(model.parameters())`, then
    `model.head = nn.Linear(...)`) is silently never updated.

    ## Example
    `model.extra = nn.Linear(8, 8)` after the optimizer was built.

    ## How to fix
    Build the optimizer after the model is complete; remove unused layers or set
    `requires_grad_(False)` on them on purpose.

    ## Options
    None.

    ## References
    - PyTorch forum, *Parameters not updated: optimizer created before adding layers* (a frequent question).
    """

    code = "PF406"
    name = "parameter-without-gradient"
    summary = "A trainable parameter gets no gradient, or the optimizer does not hold it."
    subject = LiveSetupSubject
    fix = "build the optimizer after the model is complete; remove unused layers (or freeze them on purpose)"

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        if f is None:
            return
        missing = f.not_in_optimizer
        if missing:
            yield self.finding(f"{len(missing)} of {len(f.trainable)} trainable parameters are not in the "
                               f"optimizer: {_names(missing)}", path=subject.display, column=missing[0])
        none = [n for n, g in f.grads if g is None]
        if none and f.grads:
            yield self.finding(f"{len(none)} of {len(f.grads)} trainable parameters got no gradient from the "
                               f"loss on one batch: {_names(none)}", path=subject.display, column=none[0])


class EvalModeAtTrainingStart(Rule):
    """
    ## What it does
    Flags a model in eval mode (`model.eval()`) when it is checked before training while it holds
    dropout or batch norm layers.

    ## Why is this bad?
    In eval mode dropout does nothing and batch norm uses its running statistics instead of the
    batch's: the model trains without regularization, on statistics that never update. A common
    cause is a validation pass (`model.eval()`) before the training loop without `model.train()`.

    ## Example
    `model.eval(); preflight.check(loader, model=model, loss=loss)` then the training loop.

    ## How to fix
    Call `model.train()` at the start of every training epoch.

    ## Options
    None. A loop that calls `model.train()` itself makes this harmless.

    ## References
    - PyTorch docs, `nn.Module.train` / `nn.Module.eval`.
    """

    code = "PF407"
    name = "eval-mode-at-training-start"
    summary = "The model is in eval mode before training while it has dropout or batch norm."
    subject = LiveSetupSubject
    fix = "call model.train() at the start of every training epoch"

    def check(self, subject: LiveSetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        f = facts_of(subject)
        if f is None or not f.eval_modules:
            return
        yield self.finding(f"{len(f.eval_modules)} dropout / batch norm module(s) are in eval mode: "
                           f"{_names(f.eval_modules)}; training now would not apply dropout and would not "
                           "update batch norm statistics", path=subject.display, column=f.eval_modules[0])


def _names(names: Sequence[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
