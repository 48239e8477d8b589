"""PF501-PF506: training-loop mistakes, read statically from the loops of a ``.py`` file or notebook.

Each rule has a pure measure (``preflight.analysis.loop_sites``: the offending calls or statements
of a module's ``LoopModule``, the facts of ``preflight.analysis.loops``) and a small judge here. The
facts are computed once per subject (``loop_facts``). A file that imports no torch, lightning,
accelerate or transformers module is not read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from preflight.analysis import loops as lp
from preflight.analysis.loop_sites import (
    accumulated_losses,
    undivided_accumulation,
    unguarded_eval_loops,
    unrestored_train_mode,
    unset_sampler_epochs,
    unzeroed_steps,
)
from preflight.analysis.syntax import source_of
from preflight.checks.base import Option, Rule
from preflight.checks.loop_fixes import LoopFix
from preflight.findings import Finding, Severity
from preflight.inputs.subject import CodeSubject

ROOTS = ("torch", "lightning", "pytorch_lightning", "accelerate", "transformers", "ignite")


def loop_facts(subject: CodeSubject) -> lp.LoopModule | None:
    """The subject's training-loop facts, computed on first use and kept on the subject; None when the
    file imports none of the training libraries."""
    memo = vars(subject)
    if "loop_facts" not in memo:
        tree = subject.tree
        m = lp.analyse_loops(tree) if isinstance(tree, ast.Module) else None
        if m is not None and not any(q.split(".")[0] in ROOTS for q in m.imports.values()):
            m = None
        memo["loop_facts"] = m
    found = memo["loop_facts"]
    return found if isinstance(found, lp.LoopModule) else None


# --- rules -------------------------------------------------------------------------------------

class _LoopRule(Rule):
    subject = CodeSubject

    def check(self, subject: CodeSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        m = loop_facts(subject)
        return () if m is None else self.judge(subject, m, opts)

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        raise NotImplementedError

    def at(self, subject: CodeSubject, node: ast.AST, message: str, severity: Severity | None = None) -> Finding:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        return self.finding(message, path=subject.display, line=line, col=subject.column(line, col),
                            end_line=getattr(node, "end_lineno", None), severity=severity)


class GradientsNeverZeroed(_LoopRule):
    """
    ## What it does
    Flags a loop that calls `backward()` and an optimizer's `step()` (`opt.step()`,
    `scaler.step(opt)`) but never zeroes the gradients in it: no `optimizer.zero_grad()`,
    `model.zero_grad()`, `zero_grad(set_to_none=True)`, `p.grad = None` or `p.grad.zero_()`, in the
    loop or in a helper of the file it calls (an LBFGS closure included).

    ## Why is this bad?
    `backward()` adds to `.grad`. Without zeroing, every step applies the sum of all the gradients
    so far: the effective learning rate grows with the step count and training diverges or stalls.
    Deliberate gradient accumulation zeroes too, every k steps, and is not reported.

    ## Example
    ```python
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()                  # PF501
    ```

    ## How to fix
    Call `optimizer.zero_grad()` once per step (before `backward()` or after `step()`).

    ## Options
    None.

    ## References
    - [PyTorch: zeroing out gradients](https://pytorch.org/tutorials/recipes/recipes/zeroing_out_gradients.html)
    """

    code = "PF501"
    name = "gradients-never-zeroed"
    summary = "A loop calls backward() and step() but never zero_grad(): gradients pile up across steps."
    severity = Severity.ERROR
    fix = "call optimizer.zero_grad() every step (before backward() or after step())"
    fix_object = LoopFix("zero_grad")

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for step, elsewhere in unzeroed_steps(m):
            where = "zero_grad() is called only outside this loop" if elsewhere else "nothing zeroes the gradients"
            yield self.at(subject, step.node, f"`{source_of(step.node)}` runs every iteration after backward() but "
                          f"{where}: each step applies the sum of all gradients so far")


class UnguardedEvalLoop(_LoopRule):
    """
    ## What it does
    Flags an evaluation loop (over a loader named for validation or test, or in a function named
    `evaluate`, `validate`, `test`, `val`...) that calls a model and trains nothing, when
    - `model.eval()` (or `.train(False)`) is called neither in its function, nor in a helper of the
      file that function calls, nor in the functions that call it, and the file builds dropout or
      batch norm (or a torchvision, timm or transformers model, which have them): warning; or
    - it runs outside `torch.no_grad()` / `torch.inference_mode()` (a `with` block, a decorator,
      every call site inside one, or `torch.set_grad_enabled(False)`): info.

    ## Why is this bad?
    In train mode dropout drops units and batch norm normalises with the batch's statistics (and
    updates its running ones with validation data): the validation score is noisy and wrong, and
    model selection on it is too. Without `no_grad` every batch builds an autograd graph: memory
    and time for nothing.

    ## Example
    ```python
    def evaluate(model, val_loader):
        for x, y in val_loader:           # PF502: no model.eval(), no torch.no_grad()
            correct += (model(x).argmax(1) == y).sum().item()
    ```

    ## How to fix
    `model.eval()` before the loop and `with torch.no_grad():` around it (`model.train()` after,
    when training goes on).

    ## Options
    - `check_no_grad` (default true): also report (at info) evaluation outside `no_grad`.

    ## References
    - [PyTorch: Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
    - [PyTorch: torch.no_grad](https://pytorch.org/docs/stable/generated/torch.no_grad.html)
    """

    code = "PF502"
    name = "unguarded-eval-loop"
    summary = "An evaluation loop runs without model.eval() (dropout/batch norm) or without torch.no_grad()."
    severity = Severity.WARNING
    fix = "call model.eval() before the loop and wrap it in `with torch.no_grad():`"
    fix_object = LoopFix("eval_mode")
    options = (Option("check_no_grad", True, "also report evaluation outside no_grad / inference_mode (info)"),)

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for f, loop, no_eval, no_grad in unguarded_eval_loops(m):
            where = f"the loop over `{loop.iterates}`" if loop.iterates else "this loop"
            if f.name != lp.MODULE:
                where += f" in {f.name}()"
            if no_eval:
                also = " or torch.no_grad()" if no_grad else ""
                yield self.at(subject, loop.node, f"{where} evaluates without model.eval(){also}: dropout and batch "
                              "norm stay in training mode, so the scores are noisy and batch-norm statistics move")
            elif no_grad and opts.get("check_no_grad", True):
                yield self.at(subject, loop.node, f"{where} evaluates outside torch.no_grad(): every batch builds "
                              "an autograd graph", severity=Severity.INFO)


class LossTensorAccumulated(_LoopRule):
    """
    ## What it does
    Flags a loss tensor added to an accumulator across loop iterations, outside `no_grad`:
    `total_loss += loss` (or `+= loss * x.size(0)`, `+= criterion(out, y)`), `losses.append(loss)`,
    where the loss comes from a loss call (a torch loss, `criterion(...)`, `loss_fn(...)`,
    `outputs.loss`) or is a name the loop calls `backward()` on (`loss, logits = model(x, labels=y)`),
    and is not turned into a number (`.item()`, `float()`, `.detach()`), and the
    accumulator is never backwarded (summing losses to backward once is not reported).

    ## Why is this bad?
    Each loss tensor holds its autograd graph; the sum holds every one of them, so memory grows
    with each iteration until the epoch ends (or the GPU runs out). PyTorch's FAQ names it first.

    ## Example
    ```python
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        total_loss += loss                # PF503
    ```

    ## How to fix
    Accumulate a number: `total_loss += loss.item()` (or `loss.detach()`).

    ## Options
    None.

    ## References
    - [PyTorch FAQ: don't accumulate history across your training loop](https://pytorch.org/docs/stable/notes/faq.html)
    """

    code = "PF503"
    name = "loss-tensor-accumulated"
    summary = "A loss tensor is summed across iterations (total += loss), keeping every graph alive."
    severity = Severity.WARNING
    fix = "accumulate loss.item() (or loss.detach()), not the loss tensor"
    fix_object = LoopFix("loss_item")

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for node, acc, loss in accumulated_losses(m):
            yield self.at(subject, node, f"`{acc}` accumulates the tensor `{loss}` across iterations: it keeps "
                          f"every iteration's autograd graph alive; accumulate `{loss}.item()`")


class TrainModeNotRestored(_LoopRule):
    """
    ## What it does
    Flags a loop that trains (calls `backward()`, directly or in a helper of the file) and sets
    eval mode (`model.eval()`, or a helper that calls it and does not call `train()` after), but
    never sets train mode again in the loop (`model.train()`, directly or in a helper). The model
    must be one an optimizer updates when the file builds the optimizer (a frozen teacher or an
    EMA copy in eval mode is not reported).

    ## Why is this bad?
    After the first evaluation the rest of training runs in eval mode: dropout is off and batch
    norm uses (and no longer updates) its running statistics. Training goes on, quietly worse.

    ## Example
    ```python
    for epoch in range(epochs):
        for x, y in train_loader:
            ...; loss.backward(); optimizer.step()
        model.eval()                      # PF504: no model.train() in the epoch loop
        validate(model, val_loader)
    ```

    ## How to fix
    Call `model.train()` at the start of each epoch (or at the end of the evaluation helper).

    ## Options
    None.

    ## References
    - [PyTorch: Module.train](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train)
    """

    code = "PF504"
    name = "train-mode-not-restored"
    summary = "A loop evaluates with model.eval() and keeps training without model.train()."
    severity = Severity.WARNING
    fix = "call model.train() at the start of each epoch (or after the evaluation)"
    fix_object = LoopFix("train_mode")

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for call, model in unrestored_train_mode(m):
            how = "sets eval mode" if lp.mode_set(call) == "eval" else f"sets `{model}` to eval mode"
            yield self.at(subject, call.node, f"`{source_of(call.node)}` {how} inside a training loop that never "
                          f"calls `{model}.train()` again: training goes on with dropout off and batch norm frozen")


class SamplerEpochNeverSet(_LoopRule):
    """
    ## What it does
    Flags a `DistributedSampler` (shuffling, not named for validation or test) in a file that has
    an epoch loop and calls `set_epoch` nowhere. Files using Lightning or accelerate (which set it)
    are not reported.

    ## Why is this bad?
    `DistributedSampler` seeds its shuffle with `seed + epoch`; without `set_epoch(epoch)` the
    epoch stays 0 and every epoch sees the same order: the row-order family's distributed case.

    ## Example
    ```python
    sampler = DistributedSampler(dataset)            # PF505
    loader = DataLoader(dataset, sampler=sampler, batch_size=64)
    for epoch in range(epochs):
        for x, y in loader: ...
    ```

    ## How to fix
    Call `sampler.set_epoch(epoch)` at the start of each epoch, before iterating the loader.

    ## Options
    None.

    ## References
    - [PyTorch: DistributedSampler](https://pytorch.org/docs/stable/data.html#torch.utils.data.distributed.DistributedSampler)
    """

    code = "PF505"
    name = "sampler-epoch-never-set"
    summary = "A DistributedSampler whose set_epoch() is never called: every epoch has the same order."
    severity = Severity.WARNING
    fix = "call sampler.set_epoch(epoch) at the start of every epoch"
    fix_object = LoopFix("set_epoch")

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for call in unset_sampler_epochs(m):
            yield self.at(subject, call.node, "this DistributedSampler's set_epoch(epoch) is never called: it "
                          "shuffles with the same seed every epoch, so every epoch sees the same order")


class UndividedAccumulatedLoss(_LoopRule):
    """
    ## What it does
    Flags gradient accumulation whose loss is not divided: a loop calls `backward()` every
    iteration and the optimizer's `step()` only under `if ... % k ...`, and the loss backwarded
    is divided by nothing (`loss / k`, `loss /= k`, a division where the loss is built, or in
    `scaler.scale(loss / k)`). Accelerate's `accumulate()` scales the loss itself: not reported.

    ## Why is this bad?
    The gradients of k mini-batches are summed, so each step is k times larger than the same
    batch size trained at once: in effect the learning rate is multiplied by k.

    ## Example
    ```python
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y)
        loss.backward()                   # PF506
        if (i + 1) % accum_steps == 0:
            optimizer.step(); optimizer.zero_grad()
    ```

    ## How to fix
    Divide the loss by the number of accumulated steps: `(loss / accum_steps).backward()`.

    ## Options
    None.

    ## References
    - [Hugging Face: gradient accumulation](https://huggingface.co/docs/accelerate/usage_guides/gradient_accumulation)
    """

    code = "PF506"
    name = "undivided-accumulated-loss"
    summary = "Gradient accumulation (step() every k iterations) with a loss not divided by k."
    severity = Severity.WARNING
    fix = "divide the loss by the number of accumulation steps before backward()"
    fix_object = LoopFix("divide_loss")

    def judge(self, subject: CodeSubject, m: lp.LoopModule, opts: Mapping[str, Any]) -> Iterable[Finding]:
        for call, loss in undivided_accumulation(m):
            yield self.at(subject, call.node, f"gradients of `{loss}` are accumulated over several iterations (step() "
                          "runs under a modulo test) but the loss is not divided by their number: each step is k "
                          "times too large")
