"""PF301-PF306: the model's output activation against the loss it is fed to.

PF301-PF305 read Python source statically (``CodeSubject``: the value passed to the loss, followed
through the module) and live objects (``SetupSubject``: the model's module tree confirmed by one
forward pass). PF306 needs the model's output width, so it is runtime only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from preflight.analysis import names
from preflight.checks.base import Rule
from preflight.checks.fixes import StableLoss
from preflight.findings import Finding, Severity
from preflight.fixing.plan import activation_fix
from preflight.inputs.subject import CodeSubject, SetupSubject

_STATIC_SCOPE = """
    In a `.py` file (read statically, never imported or run) the prediction passed to the loss is
    followed back through the module: a `Sequential`'s last element, what `forward` returns
    (through `self.` attributes and helper methods), a model or criterion held in a variable or an
    attribute, a function called with the model's output, a Lightning `training_step`. Statements
    run in order, so an activation applied after the loss (for metrics) does not count, and a
    `forward` that returns logits on one branch and probabilities on another is not reported.
    Names resolve through the file's imports: a local class called like a torch loss is not one.
    Wrappers keep what they wrap: `.to(device)`, `.cuda()`, `.float()`, `.train()` return their
    receiver (a loss or a model), `nn.DataParallel`, `DistributedDataParallel`, `torch.compile`,
    `fabric.setup` and `accelerator.prepare` return the module(s) they are given, and
    `nn.parallel.data_parallel(module, x)` is the module applied to `x`. An activation passed to a
    constructor (`Discriminator(f=torch.sigmoid)`, or a parameter default) is followed into the
    attribute `forward` calls. Library loops handed a model and a loss together are followed
    (ignite's `create_supervised_trainer`, HF `Trainer(compute_loss_func=...)`).
    Evaluation paths are not training: a loss reached only under `torch.no_grad()` /
    `torch.inference_mode()`, after `model.eval()`, or in a function named for validation or
    testing (`validation_step`, `evaluate`, `test`, `val_epoch`) is not reported, because the
    gradient the rule protects is never taken there; the same pair on a training path is. So is a
    loss only read as a number (`.item()`, `.detach()`, `float()`, logged): in a loop that calls no
    `backward()`, a name the training loop also uses (`loss_val`) counts as read there, unless it
    feeds another value with its graph (`total = total + l`).
    A never-called `train(model, ...)` helper is followed only with what its callers pass: a
    parameter named `model` is not assumed to be the file's model.
    Files of the same project are followed: with the checked file's folder (and the packages
    above it) as the import root, `from models import Net`, `from .models import Net` and
    `import models.gan as gan` resolve to the project's files, each parsed and walked once
    (never imported or run); a finding is reported where the loss is called.
"""


class _ActivationLoss(Rule):
    """An activation (``act``) whose output reaches a loss (``loss``)."""

    act: ClassVar[str]
    loss: ClassVar[str]
    why: ClassVar[str]
    subject = (CodeSubject, SetupSubject)

    def check(self, subject: Any, opts: Mapping[str, Any]) -> Iterable[Finding]:
        if isinstance(subject, CodeSubject):
            flow = subject.flow
            if flow is None:
                return
            for pair in flow.pairs.values():
                if pair.act.kind != self.act or pair.loss != self.loss or pair.eval_only:
                    continue
                where = f"at {pair.act.path}:{pair.act.line}" if pair.act.path else \
                    "in the call" if pair.act.line == pair.line else f"at line {pair.act.line}"
                yield self.finding(
                    f"`{pair.arg}` passes through {pair.act.how} ({where}) before {pair.loss_name}: {self.why}",
                    path=subject.display, line=pair.line, col=subject.column(pair.line, pair.col),
                    end_line=pair.end_line, autofix=activation_fix(subject, pair, self.code))
        elif isinstance(subject, SetupSubject):
            m = subject.model
            if m is None or subject.loss != self.loss or m.activation != self.act:
                return
            yield self.finding(
                f"model {m.name} ends with {self.act} ({m.evidence}) and the loss is {subject.loss_name}: {self.why}",
                path=subject.display)


class SigmoidBeforeBCELoss(_ActivationLoss):
    """
    ## What it does
    Flags a sigmoid output (`nn.Sigmoid` last in a `Sequential`, `torch.sigmoid` / `F.sigmoid` /
    `.sigmoid()` on the returned value, an `nn.Sigmoid` attribute applied at the end of `forward`,
    a sigmoid written inside the loss call) that reaches `nn.BCELoss` or
    `F.binary_cross_entropy`.
    {scope}
    With live objects (`preflight.check(loader, model=model, loss=criterion)`) the model's module
    tree names the activation and one forward pass on one batch, under `torch.no_grad()`, confirms
    it (outputs within [0, 1]); the model's train/eval mode is restored.

    ## Why is this bad?
    `BCELoss` takes `log` of probabilities the sigmoid has already rounded: once a logit passes
    about 17 (float32), `sigmoid` returns exactly 1.0, the loss is clamped to 100 and the gradient
    is lost. `BCEWithLogitsLoss` fuses the two with the log-sum-exp trick and stays exact. PyTorch's
    documentation recommends it for numerical stability.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
    criterion = nn.BCELoss()
    loss = criterion(model(x), y)          # PF301
    ```

    ## How to fix
    Drop the sigmoid from the model and use the fused loss; apply the sigmoid only where
    probabilities are needed (prediction, metrics):
    ```python
    model = nn.Sequential(nn.Linear(20, 1))
    criterion = nn.BCEWithLogitsLoss()
    probs = torch.sigmoid(model(x))        # for metrics only
    ```

    ## Options
    None.

    ## References
    - [PyTorch: BCEWithLogitsLoss](https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html)
    """

    code = "PF301"
    name = "sigmoid-before-bce-loss"
    summary = "A sigmoid output is fed to BCELoss; BCEWithLogitsLoss on the logits is exact."
    severity = Severity.WARNING
    fix = "drop the sigmoid and use nn.BCEWithLogitsLoss (F.binary_cross_entropy_with_logits) on the logits"
    fix_object = StableLoss("sigmoid_bce")
    act, loss = names.SIGMOID, names.BCE
    why = "BCELoss on saturated probabilities loses precision and gradient; BCEWithLogitsLoss is exact"


class SoftmaxBeforeCrossEntropy(_ActivationLoss):
    """
    ## What it does
    Flags a softmax output (`nn.Softmax` last, `torch.softmax` / `F.softmax` / `.softmax()` on
    the returned value, a softmax inside the loss call) that reaches `nn.CrossEntropyLoss` or
    `F.cross_entropy`.
    {scope}
    With live objects the module tree and one forward pass (rows summing to 1) confirm it.

    ## Why is this bad?
    `CrossEntropyLoss` expects logits: it applies `log_softmax` itself. Given probabilities it
    computes softmax of a softmax: the outputs are squeezed into [0, 1], the largest achievable
    margin between classes is about e, the loss cannot approach zero, and gradients shrink as the
    model becomes confident. Training is slow and plateaus.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(20, 10), nn.Softmax(dim=1))
    loss = nn.CrossEntropyLoss()(model(x), y)     # PF302
    ```

    ## How to fix
    Drop the softmax from the model; `CrossEntropyLoss` takes the logits. Apply
    `softmax` only for predictions or metrics.

    ## Options
    None.

    ## References
    - [PyTorch: CrossEntropyLoss](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html)
      ("The input is expected to contain the unnormalized logits for each class").
    """

    code = "PF302"
    name = "softmax-before-cross-entropy"
    summary = "A softmax output is fed to CrossEntropyLoss, which applies log_softmax itself."
    severity = Severity.ERROR
    fix = "drop the softmax: nn.CrossEntropyLoss (F.cross_entropy) takes the logits"
    fix_object = StableLoss("softmax_ce")
    act, loss = names.SOFTMAX, names.CE
    why = "CrossEntropyLoss applies log_softmax itself, so this is a double softmax that flattens the gradients"


class SoftmaxBeforeNLLLoss(_ActivationLoss):
    """
    ## What it does
    Flags a softmax output (not `log_softmax`) that reaches `nn.NLLLoss` or `F.nll_loss`.
    {scope}
    `log_softmax` followed by `NLLLoss` is correct and is not reported.

    ## Why is this bad?
    `NLLLoss` expects log-probabilities: it returns minus the input at the target class. Given
    probabilities it minimises `-p` instead of `-log p`: the loss is bounded in [-1, 0], its
    gradient does not grow for confidently wrong predictions, and the reported loss is not a
    likelihood.

    ## Example
    ```python
    out = F.softmax(self.fc(x), dim=1)
    loss = F.nll_loss(out, y)                     # PF303
    ```

    ## How to fix
    Use `log_softmax` (or drop the activation and use `CrossEntropyLoss` on the logits).

    ## Options
    None.

    ## References
    - [PyTorch: NLLLoss](https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html)
    """

    code = "PF303"
    name = "softmax-before-nll-loss"
    summary = "A softmax (not log_softmax) output is fed to NLLLoss, which expects log-probabilities."
    severity = Severity.ERROR
    fix = "use log_softmax instead of softmax (or drop it and use nn.CrossEntropyLoss on the logits)"
    fix_object = StableLoss("softmax_nll")
    act, loss = names.SOFTMAX, names.NLL
    why = "NLLLoss expects log-probabilities, so this minimises -p instead of -log p"


class SigmoidBeforeBCEWithLogits(_ActivationLoss):
    """
    ## What it does
    Flags a sigmoid output that reaches `nn.BCEWithLogitsLoss` or
    `F.binary_cross_entropy_with_logits`: a double sigmoid.
    {scope}
    With live objects the module tree and one forward pass (outputs within [0, 1]) confirm it.

    ## Why is this bad?
    `BCEWithLogitsLoss` applies the sigmoid itself. After a first sigmoid its input lies in
    [0, 1], so the predicted probability lies in [0.5, 0.73]: the model can never predict the
    negative class with confidence, the loss cannot fall below about 0.31 per positive and 0.69
    per negative, and the gradients vanish.

    ## Example
    ```python
    logits = self.fc(x)
    return torch.sigmoid(logits)
    ...
    loss = nn.BCEWithLogitsLoss()(model(x), y)    # PF304
    ```

    ## How to fix
    Drop the sigmoid from the model; keep `BCEWithLogitsLoss`.

    ## Options
    None.

    ## References
    - [PyTorch: BCEWithLogitsLoss](https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html)
    """

    code = "PF304"
    name = "sigmoid-before-bce-with-logits"
    summary = "A sigmoid output is fed to BCEWithLogitsLoss, which applies a sigmoid itself."
    severity = Severity.ERROR
    fix = "drop the sigmoid: nn.BCEWithLogitsLoss takes the logits"
    act, loss = names.SIGMOID, names.BCE_LOGITS
    why = "BCEWithLogitsLoss applies the sigmoid itself, so predictions are squeezed into [0.5, 0.73]"


class LogSoftmaxBeforeCrossEntropy(_ActivationLoss):
    """
    ## What it does
    Flags a `log_softmax` output that reaches `nn.CrossEntropyLoss` or `F.cross_entropy`.
    {scope}

    ## Why is this bad?
    It is redundant, not wrong: `log_softmax` is idempotent, so `CrossEntropyLoss` (which applies
    `log_softmax` itself) computes the same loss. It costs a second pass over the logits and
    suggests a confusion between `NLLLoss` and `CrossEntropyLoss` worth settling. Severity: info.

    ## Example
    ```python
    loss = F.cross_entropy(F.log_softmax(logits, dim=1), y)   # PF305
    ```

    ## How to fix
    Drop the `log_softmax` (keep `CrossEntropyLoss`), or keep it and use `NLLLoss`.

    ## Options
    None.

    ## References
    - [PyTorch: CrossEntropyLoss](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html)
    """

    code = "PF305"
    name = "log-softmax-before-cross-entropy"
    summary = "A log_softmax output is fed to CrossEntropyLoss (redundant: it applies log_softmax itself)."
    severity = Severity.INFO
    fix = "drop the log_softmax (CrossEntropyLoss applies it), or keep it and use nn.NLLLoss"
    act, loss = names.LOG_SOFTMAX, names.CE
    why = "redundant, CrossEntropyLoss applies log_softmax itself"


class SingleOutputCrossEntropy(Rule):
    """
    ## What it does
    Flags `CrossEntropyLoss` (or `F.cross_entropy`) on a model with one output unit: a forward
    pass on one batch returns shape `(N, 1)` (or, without a batch, a `Sequential` ends in
    `Linear(..., 1)`). Runtime only: `preflight.check(loader, model=model, loss=criterion)`.

    ## Why is this bad?
    `CrossEntropyLoss` takes a softmax over the class dimension. With one class the softmax is
    always 1 and its log 0, so the loss is exactly zero for every input, the gradient is zero and
    the model never learns. This is the usual result of porting a binary model written for
    `BCEWithLogitsLoss`.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
    criterion = nn.CrossEntropyLoss()                # PF306: the loss is always 0
    ```

    ## How to fix
    For two classes, either keep one output and use `BCEWithLogitsLoss` with float targets, or
    give the model two outputs (`Linear(16, 2)`) and keep `CrossEntropyLoss` with class indices.

    ## Options
    None.

    ## References
    - [PyTorch: CrossEntropyLoss](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html)
    """

    code = "PF306"
    name = "single-output-cross-entropy"
    summary = "CrossEntropyLoss on a model with one output unit: the loss is always zero."
    severity = Severity.ERROR
    subject = SetupSubject
    fix = "use nn.BCEWithLogitsLoss with one output, or give the model one output per class"
    # no fix object: no probe output kind measures it yet

    def check(self, subject: SetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        m = subject.model
        if m is None or subject.loss != names.CE or m.width != 1:
            return
        how = "a forward pass returns one column" if m.forward_ok else "its last Linear layer has one output"
        yield self.finding(
            f"model {m.name} has one output unit ({how}) and the loss is {subject.loss_name}: "
            "the softmax over one class is always 1, so the loss and its gradient are always zero",
            path=subject.display)


for _rule in (SigmoidBeforeBCELoss, SoftmaxBeforeCrossEntropy, SoftmaxBeforeNLLLoss, SigmoidBeforeBCEWithLogits,
              LogSoftmaxBeforeCrossEntropy):
    _rule.__doc__ = (_rule.__doc__ or "").replace("{scope}", _STATIC_SCOPE)
