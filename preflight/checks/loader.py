"""PF203-PF204: how a training DataLoader orders and batches its rows.

PF203 reads Python source statically (``CodeSubject``) and live loaders (``SetupSubject``);
PF204 needs the batches themselves, so it is runtime only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from preflight.checks.base import Option, Rule
from preflight.checks.fixes import ShuffleRows
from preflight.findings import Finding
from preflight.fixing.plan import loader_fix
from preflight.inputs.subject import CodeSubject, SetupSubject
from preflight.stats.batches import order_runs, purity


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


class UnshuffledTrainingLoader(Rule):
    """
    ## What it does
    Flags a `torch.utils.data.DataLoader` for training data that does not shuffle:
    `shuffle=False`, shuffle passed positionally as `False` (the third argument), a
    `sampler=SequentialSampler(...)` (the stored order, every epoch), or neither a `shuffle` argument
    nor a `sampler`/`batch_sampler` (the default is not to shuffle).

    In a `.py` file (read statically, never imported or run) a loader counts as a *training* loader
    when its name, its dataset's name or its context says so (`train_loader`, `trainset`,
    `MNIST(..., train=True)`, `split="train"`, a dict key `"train"`, a Lightning
    `train_dataloader` method), or when it is iterated by a loop that calls `.backward()`.
    A loader whose name says test/val/eval is not reported, with one exception: a loader built in
    a helper that several callers share (`train_loader = build(train_ds)`, `val_loader =
    build(val_ds)`) is a training loader when a training loop iterates a caller's copy, whatever
    the other callers name theirs; the finding is on the helper's `DataLoader(...)` line.

    With a live loader (`preflight.check(train_loader)`) the sampler is read (a `BatchSampler` is
    unwrapped; `RandomSampler` shuffles; `DistributedSampler` shuffles when its `shuffle` is true)
    and a `SequentialSampler` is reported only when the labels of the first batches come in runs:
    far fewer label changes than a shuffled order of the dataset's classes would give.

    ## Why is this bad?
    A loader that does not shuffle yields the dataset in its stored order every epoch. Datasets are
    often stored sorted by class (folders per class, label-sorted CSVs), so every mini-batch then
    holds one class, each step undoes the last, and the loss stalls; even an unsorted order repeats
    identically every epoch.

    ## Example
    ```python
    from torch.utils.data import DataLoader

    train_loader = DataLoader(train_ds, batch_size=64)   # PF203: no shuffle, no sampler
    ```

    ## How to fix
    ```python
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    ```
    or pass a shuffling sampler (`DistributedSampler(train_ds, shuffle=True)` under DDP).
    Time series that must keep their order: suppress it on the line with
    `# preflight: ignore[PF203]`.

    `DataLoader(ds, **train_kwargs)` reads the dict where it is built in the code (`{...}`,
    `dict(...)`, `.update(...)`, `d["shuffle"] = True`): a training loader whose `shuffle=True` is
    set on one branch only (`if use_cuda: train_kwargs.update(shuffle=True, ...)`) does not shuffle
    on the other, and is reported with that branch named.

    Not reported: `shuffle=<expression>` (decided at runtime), any other `sampler=` or `batch_sampler=`,
    `*args` or a `**dict` not built in the code (unknown), an `IterableDataset` (it orders itself),
    a name that does not resolve to `torch.utils.data.DataLoader` (a local function called
    `DataLoader`), a loader with no training hint, a loader only ever iterated on evaluation paths
    (under `torch.no_grad()`, feature extraction) or by loops that backward only to read `.grad` and
    step nothing (a Fisher estimate for EWC, saliency), or built in an `if __name__ == "__main__":`
    smoke test of a file that never trains (no `backward()`, no optimizer `step()`, no `fit(...)` and
    no call of a function named for training with arguments, such as an imported `train(model, opt,
    train_loader)`). A loader built in another file of the project is that file's:
    it is not reported where it is imported.

    ## Options
    - `max_runs_z` (default -5.0, runtime): a sequential loader is reported only when the runs
      test's z-score of its labels in order is below this.
    - `max_runs_ratio` (default 0.5, runtime): and only when the observed label runs are fewer than
      this fraction of the runs a shuffled order gives.

    ## References
    - [PyTorch: torch.utils.data.DataLoader](https://pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader)
    - Bengio, *Practical recommendations for gradient-based training of deep architectures*, 2012, section 3.3.
    """

    code = "PF203"
    name = "unshuffled-training-loader"
    summary = "A DataLoader for training data does not shuffle."
    subject = (CodeSubject, SetupSubject)
    fix = "shuffle the training loader: DataLoader(..., shuffle=True) (or a shuffling sampler)"
    fix_object = ShuffleRows()
    options = (
        Option("max_runs_z", -5.0, "runtime: fire only when the runs test's z-score is below this"),
        Option("max_runs_ratio", 0.5, "runtime: and only when observed / expected label runs is below this", low=0.0),
    )

    def check(self, subject: Any, opts: Mapping[str, Any]) -> Iterable[Finding]:
        if isinstance(subject, CodeSubject):
            yield from self._static(subject)
        elif isinstance(subject, SetupSubject):
            yield from self._runtime(subject, opts)

    def _static(self, subject: CodeSubject) -> Iterable[Finding]:
        flow = subject.flow
        if flow is None:
            return
        for fact in flow.loaders:
            if fact.shuffle != "no" or fact.role != "train" or fact.iterable or fact.foreign:
                continue
            context = _describe(fact)
            yield self.finding(f"{context} does not shuffle: {fact.reason}", path=subject.display,
                               line=fact.line, col=subject.column(fact.line, fact.col), end_line=fact.end_line,
                               autofix=loader_fix(subject, fact))

    def _runtime(self, subject: SetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        lf = subject.loader
        if lf is None or lf.shuffled is not False or not lf.batch_labels or not lf.population:
            return
        labels = np.concatenate([np.asarray(b).reshape(-1) for b in lf.batch_labels])
        test = order_runs(labels, lf.population)
        if test is None:
            return
        if test.z < opts["max_runs_z"] and test.ratio < opts["max_runs_ratio"]:
            yield self.finding(
                f"{lf.sampler} yields rows in stored order and the labels come in runs: {test.runs} runs in the "
                f"first {test.n} labels where a shuffled order gives {test.expected:.0f} (z = {test.z:.1f})",
                path=subject.display)


def _describe(fact: Any) -> str:
    if fact.trained_outside and fact.context and fact.trained_on is not None:
        # built in a helper, trained on by a caller: name the helper (the fix goes there) and the caller's name
        via = fact.trained_via if _says_train(fact.trained_via) else next(
            (t for t in fact.targets if _says_train(t)), fact.trained_via)
        used = f" via `{via}`" if via else ""
        return f"loader built in `{fact.context}()` and used for training{used} (the loop at line {fact.trained_on})"
    name = next((t for t in reversed(fact.targets) if _says_train(t)), None)
    if name is not None:
        return f"training loader `{name}`"
    if _says_train(fact.context):
        return f"loader returned by `{fact.context}()`"
    ds = next((d for d in fact.dataset if _says_train(d)), None)
    if ds is not None:
        data = "training data (train=True / split)" if ds == "train" else f"training data `{ds}`"
        target = f" `{fact.targets[-1]}`" if fact.targets else ""
        return f"loader{target} over {data}"
    return f"loader{f' `{fact.targets[-1]}`' if fact.targets else ''} iterated by the training loop at line " \
           f"{fact.trained_on}"


def _says_train(hint: str) -> bool:
    from preflight.analysis import role_of

    return role_of(hint) == "train"


class SingleClassBatches(Rule):
    """
    ## What it does
    Reads the first batches a live loader yields (at most `max_batches`, without starting worker
    processes) and reports when most of them are label-pure or nearly so: the majority class holds
    at least `purity` of the batch. Runtime only: `preflight.check(train_loader)`.

    The share of pure batches is compared with the share a shuffled loader would give with the
    dataset's class proportions (from `dataset.targets`/`labels`, a `TensorDataset`'s last tensor,
    or a random sample of items), so a heavily imbalanced dataset, where many random batches are
    pure anyway, is not reported.

    Labels are taken from batches shaped `(x, y)`, `[x, y]` or dicts with a `label`/`labels`/
    `target`/`targets`/`y` key; one-hot label rows are read by their argmax. When no labels can be
    found the report says so in a note instead of guessing.

    ## Why is this bad?
    Each optimizer step then sees one class: the gradient pushes every output toward that class
    and the next batch pushes back. Training oscillates or stalls, and BatchNorm's statistics are
    computed over one class at a time.

    ## Example
    A `DataLoader(train_ds, batch_size=32)` over a dataset stored class by class (an
    `ImageFolder`, a label-sorted table), or a custom `batch_sampler` that groups rows by class.

    ## How to fix
    Shuffle (`DataLoader(..., shuffle=True)`); a grouping batch sampler should mix classes within
    each batch.

    ## Options
    - `max_batches` (default 64): how many batches are read, at most.
    - `purity` (default 0.9): a batch is "pure" when its majority class holds at least this share.
    - `min_share` (default 0.5): fire when at least this share of the batches read are pure ...
    - `max_p_value` (default 1e-6): ... and that many pure batches would be this unlikely from a
      shuffled loader.
    - `min_batches` (default 4): read at least this many batches with two or more rows to judge.

    ## References
    - Ioffe and Szegedy, *Batch Normalization*, 2015 (statistics computed per mini-batch).
    """

    code = "PF204"
    name = "single-class-batches"
    summary = "Most batches a loader yields hold a single class."
    subject = SetupSubject
    fix = "shuffle the training loader: DataLoader(..., shuffle=True) (or mix classes in the batch sampler)"
    fix_object = ShuffleRows()
    options = (
        Option("max_batches", 64, "read at most this many batches", low=0),
        Option("purity", 0.9, "a batch is pure when its majority class holds at least this share", low=0.0, high=1.0),
        Option("min_share", 0.5, "fire when at least this share of batches are pure", low=0.0, high=1.0),
        Option("max_p_value", 1e-6, "and that count is this unlikely from a shuffled loader", low=0.0, high=1.0),
        Option("min_batches", 4, "judge only after this many batches of two rows or more", low=0),
    )

    def check(self, subject: SetupSubject, opts: Mapping[str, Any]) -> Iterable[Finding]:
        lf = subject.loader
        if lf is None or not lf.batch_labels or not lf.population or len(lf.population) < 2:
            return
        result = purity(lf.batch_labels, lf.population, float(opts["purity"]))
        if result is None or result.batches < int(opts["min_batches"]):
            return
        if result.share >= float(opts["min_share"]) and result.p_value <= float(opts["max_p_value"]):
            yield self.finding(
                f"{result.pure} of the first {result.batches} batches are single-class (majority class >= "
                f"{_pct(float(opts['purity']))} of the batch; {_pct(result.share)}) where a shuffled loader gives "
                f"{_pct(result.expected)}; sampler {lf.sampler}",
                path=subject.display)
