"""Live training objects -> ``SetupSubject``: a DataLoader or Dataset, a model, a loss.

The only input adapter that imports torch (lazily, when called). It reads without side effects a
user would notice:

* batches are built from the loader's own batch sampler, dataset and ``collate_fn`` in this
  process, so no worker processes start and at most ``max_batches`` batches are read;
* torch's, NumPy's and ``random``'s global RNG states are restored afterwards (reading a
  ``RandomSampler`` draws from torch's generator);
* the model runs one forward pass on one batch under ``torch.no_grad()`` in eval mode (no
  BatchNorm statistics move, no dropout), and every submodule's train/eval flag is restored.

This module reads the loader; ``preflight.inputs.torch_model`` describes the model and the loss.
"""

from __future__ import annotations

import contextlib
import itertools
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from preflight.errors import PreflightError
from preflight.inputs.batches import BatchReader, BatchSubject, LiveRun, LiveSetupSubject
from preflight.inputs.subject import LoaderFacts, SetupSubject
from preflight.inputs.tensors import to_numpy as _to_numpy
from preflight.inputs.torch_model import LABEL_KEYS, batch_input, describe_loss, describe_model, first_line

MAX_CLASSES = 1000  # more distinct integer labels than this: not treated as classes
SAMPLE_ITEMS = 256  # items read at random to estimate the class proportions of a map-style dataset


def is_loader(obj: Any) -> bool:
    try:
        from torch.utils.data import DataLoader
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, DataLoader)


def is_dataset(obj: Any) -> bool:
    try:
        from torch.utils.data import Dataset, IterableDataset
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, (Dataset, IterableDataset))


def setup_subject(obj: Any = None, *, model: Any = None, loss: Any = None, max_batches: int = 64) -> SetupSubject:
    """Read a DataLoader / Dataset (or None), a model and a loss into one subject."""
    return live_subjects(obj, model=model, loss=loss, max_batches=max_batches, measure=False)[0]


def live_subjects(obj: Any = None, *, model: Any = None, loss: Any = None, optimizer: Any = None,
                  max_batches: int = 64, measure: bool = True) -> tuple[LiveSetupSubject, BatchSubject | None]:
    """Read a DataLoader / Dataset (or None), a model, a loss and an optimizer: the setup subject (with the
    live objects and, when ``measure``, the PF4xx measurements on the model) and the batch subject the
    data rules read (None when no batch held features)."""
    import torch

    notes: list[str] = []
    loader_facts: LoaderFacts | None = None
    first_batch: Any = None
    reader = BatchReader(model if isinstance(model, torch.nn.Module) else None)
    if obj is not None:
        if is_loader(obj):
            display = f"<DataLoader of {type(obj.dataset).__name__}>"
            with _preserved_rng():
                loader_facts, first_batch = read_loader(obj, max_batches, notes, reader)
        elif is_dataset(obj):
            display = f"<{type(obj).__name__}>"
            with _preserved_rng():
                first_batch = _dataset_batch(obj, notes, reader, max_batches)
        else:
            raise PreflightError(f"preflight.check cannot read a {type(obj).__name__}: pass a DataLoader, a Dataset, "
                                 "a path, a DataFrame, an array or a Tensor")
    else:
        display = "<model>"
    loss_kind, loss_name = describe_loss(loss) if loss is not None else (None, None)
    if loss is not None and loss_kind is None:
        notes.append(f"the loss {type(loss).__name__} is not one preflight knows; PF301-PF306 were not checked")
    model_facts = None
    if model is not None:
        if not isinstance(model, torch.nn.Module):
            raise PreflightError(f"model= must be a torch.nn.Module, not {type(model).__name__}")
        if any(getattr(t, "is_meta", False) for t in itertools.chain(model.parameters(), model.buffers())):
            raise PreflightError("model= is on the meta device (its weights have a shape and no values), so it "
                                 "cannot run a batch; load its weights first (model.to_empty(device='cpu') and "
                                 "load_state_dict(...))")
        with _preserved_rng():
            model_facts = describe_model(model, first_batch, notes)
        if obj is None:
            display = f"<model {model_facts.name}>"
    live = LiveRun(model=model, loss=loss, optimizer=optimizer, batches=reader.kept,
                   batch_size=loader_facts.batch_size if loader_facts else None,
                   shuffled=loader_facts.shuffled if loader_facts else None, from_loader=loader_facts is not None)
    batch_subject = reader.subject(display, live) if obj is not None else None
    if measure and model is not None and loss is not None and reader.kept:
        from preflight.inputs.model_stats import measure_training

        with _preserved_rng():
            live.facts = measure_training(model, loss, loss_kind, optimizer, reader.kept, notes)
    setup = LiveSetupSubject(display=display, loader=loader_facts, model=model_facts, loss=loss_kind,
                             loss_name=loss_name, notes=notes, live=live)
    return setup, batch_subject


# --- loaders -----------------------------------------------------------------------------------

def describe_sampler(loader: Any) -> tuple[str, bool | None]:
    """The sampler's name and whether it shuffles (None: unknown, custom, or an IterableDataset)."""
    from torch.utils.data import (
        BatchSampler,
        DistributedSampler,
        IterableDataset,
        RandomSampler,
        SequentialSampler,
        SubsetRandomSampler,
        WeightedRandomSampler,
    )

    if isinstance(loader.dataset, IterableDataset):
        return f"IterableDataset {type(loader.dataset).__name__} (orders itself)", None
    bs = loader.batch_sampler
    sampler = loader.sampler
    wrapper = ""
    if bs is not None:
        if isinstance(bs, BatchSampler):
            sampler = bs.sampler
            if type(bs) is not BatchSampler:
                wrapper = f"{type(bs).__name__} over "
        elif hasattr(bs, "sampler"):
            sampler = bs.sampler
            wrapper = f"{type(bs).__name__} over "
        else:
            return f"batch sampler {type(bs).__name__}", None
    name = wrapper + type(sampler).__name__
    if isinstance(sampler, DistributedSampler):
        return f"{name}(shuffle={sampler.shuffle})", bool(sampler.shuffle)
    if isinstance(sampler, (RandomSampler, SubsetRandomSampler, WeightedRandomSampler)):
        return name, True
    if isinstance(sampler, SequentialSampler):
        return name, False
    return name, None


def iter_batches(loader: Any, limit: int) -> Iterator[Any]:
    """The loader's first ``limit`` batches, built in this process (no workers start)."""
    from torch.utils.data import IterableDataset

    ds = loader.dataset
    collate = loader.collate_fn
    if isinstance(ds, IterableDataset):
        it = iter(ds)
        size = loader.batch_size
        for _ in range(limit):
            if size is None:
                try:
                    yield collate(next(it))
                except StopIteration:
                    return
                continue
            items = list(itertools.islice(it, size))
            if not items:
                return
            if len(items) < size and loader.drop_last:
                return
            yield collate(items)
        return
    if loader.batch_sampler is not None:
        getitems = getattr(ds, "__getitems__", None)
        for indices in itertools.islice(iter(loader.batch_sampler), limit):
            indices = list(indices)
            items = getitems(indices) if getitems is not None else [ds[i] for i in indices]
            yield collate(items)
    else:
        for i in itertools.islice(iter(loader.sampler), limit):
            yield collate(ds[i])


def read_loader(loader: Any, max_batches: int, notes: list[str],
                reader: BatchReader | None = None) -> tuple[LoaderFacts, Any]:
    sampler, shuffled = describe_sampler(loader)
    facts = LoaderFacts(sampler=sampler, shuffled=shuffled, batch_size=loader.batch_size)
    labels: list[np.ndarray] = []
    first = None
    note = ""
    try:
        for batch in iter_batches(loader, max_batches):
            if first is None:
                first = batch
            facts.batches_read += 1
            if reader is not None:
                yb, _ = batch_labels(batch)
                reader.add(batch, batch_input(batch), yb)
            if note:
                continue
            y, why = batch_labels(batch)
            if y is None:
                note = why
                continue
            labels.append(y)
    except PreflightError:  # batches preflight cannot check (meta tensors): one line, not a note
        raise
    except Exception as exc:  # the user's dataset raised: report it, do not crash
        notes.append(f"reading batch {facts.batches_read + 1} failed ({type(exc).__name__}: {first_line(exc)}); "
                     f"judged on the {facts.batches_read} batch(es) read")
    if note:
        facts.label_note = note
        notes.append(f"labels not found: {note}; PF203/PF204 did not read the labels")
    elif labels:
        facts.batch_labels = labels
        facts.population, facts.population_source = population(loader.dataset, labels)
    return facts, first


def _dataset_batch(ds: Any, notes: list[str], reader: BatchReader | None = None, max_batches: int = 64) -> Any:
    """A batch of up to 8 items of a Dataset for the model's forward pass; with ``reader``, the dataset's
    first ``max_batches`` x 32 items, in its order, fed to it in batches of 32."""
    from torch.utils.data import IterableDataset
    from torch.utils.data._utils.collate import default_collate

    first = None
    try:
        it = iter(ds) if isinstance(ds, IterableDataset) else (ds[i] for i in range(len(ds)))
        for _ in range(max_batches if reader is not None else 1):
            items = list(itertools.islice(it, 32 if reader is not None else 8))
            if not items:
                break
            batch = default_collate(items)
            first = batch if first is None else first
            if reader is None:
                break
            yb, _ = batch_labels(batch)
            reader.add(batch, batch_input(batch), yb)
    except PreflightError:
        raise
    except Exception as exc:
        notes.append(f"reading items of the dataset failed ({type(exc).__name__}: {first_line(exc)})")
    return first


def batch_labels(batch: Any) -> tuple[np.ndarray | None, str]:
    """Class labels of a batch as a 1-D array, or (None, why not)."""
    y = None
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            y = batch[1]
        elif len(batch) > 2:
            return None, (f"the batches are {type(batch).__name__}s of {len(batch)} items; preflight reads labels "
                          "from (x, y) pairs or dicts with a label/target/y key")
        else:
            return None, "the batches hold a single item (no labels)"
    elif isinstance(batch, dict):
        keys = {str(k).lower(): k for k in batch}
        key = next((keys[k] for k in LABEL_KEYS if k in keys), None)
        if key is None:
            return None, f"the batch dicts have no label/target/y key (keys: {', '.join(map(str, list(batch)[:8]))})"
        y = batch[key]
    else:
        return None, f"the batches are {type(batch).__name__}s, not (x, y) pairs or dicts"
    arr = _to_numpy(y)
    if arr is None:
        return None, f"the labels are {type(y).__name__}s, not tensors or arrays"
    return class_labels(arr)


def class_labels(arr: np.ndarray) -> tuple[np.ndarray | None, str]:
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.shape[1] > 1:
        if np.isin(arr, (0, 1)).all() and (arr.sum(axis=1) == 1).all():
            return arr.argmax(axis=1), ""  # one-hot rows
        return None, "the labels are 2-D and not one-hot (multi-label or soft targets)"
    if arr.ndim != 1:
        return None, f"the labels have shape {arr.shape} (segmentation-style targets are not read)"
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not (arr == np.round(arr)).all():
            return None, "the targets are continuous (regression), not class labels"
    elif arr.dtype.kind not in "iub":
        return None, f"the labels have dtype {arr.dtype}"
    return arr, ""


def population(ds: Any, seen: list[np.ndarray]) -> tuple[dict[Any, int] | None, str]:
    """Class counts of the whole dataset when it exposes them, else of a random sample of its items."""
    whole = _dataset_targets(ds)
    if whole is not None:
        return _counts(whole), "the dataset's labels"
    try:
        n = len(ds)
    except TypeError:
        n = None
    from torch.utils.data import IterableDataset

    if n and not isinstance(ds, IterableDataset):
        rng = np.random.default_rng(0)
        idx = rng.choice(n, size=min(n, SAMPLE_ITEMS), replace=False)
        ys = []
        try:
            for i in idx.tolist():
                item = ds[i]
                y, _ = batch_labels(item if isinstance(item, (tuple, list, dict)) else (item,))
                if y is None:
                    arr = _to_numpy(item[1]) if isinstance(item, (tuple, list)) and len(item) == 2 else None
                    y = arr.reshape(-1) if arr is not None and arr.size == 1 else None
                if y is None:
                    break
                ys.append(np.asarray(y).reshape(-1))
        except Exception:
            ys = []
        if len(ys) == len(idx):
            return _counts(np.concatenate(ys)), f"{len(idx)} items read at random"
    return _counts(np.concatenate(seen)), "the batches read"


def _dataset_targets(ds: Any) -> np.ndarray | None:
    from torch.utils.data import Subset, TensorDataset

    if isinstance(ds, Subset):
        base = _dataset_targets(ds.dataset)
        return base[np.asarray(ds.indices)] if base is not None else None
    if isinstance(ds, TensorDataset) and len(ds.tensors) >= 2:
        arr = _to_numpy(ds.tensors[-1])
    else:
        arr = None
        for attr in ("targets", "labels", "y"):
            try:
                val = getattr(ds, attr, None)
            except Exception:  # a property that raises: this dataset's labels are not there to read
                continue
            if val is not None and not callable(val):
                arr = _to_numpy(val)
                if arr is not None:
                    break
    if arr is None:
        return None
    try:
        if len(arr) != len(ds):
            return None
    except TypeError:
        return None
    y, _ = class_labels(arr)
    return y


def _counts(y: np.ndarray) -> dict[Any, int] | None:
    uniq, cnt = np.unique(y, return_counts=True)
    if len(uniq) > MAX_CLASSES:
        return None
    return {u: int(c) for u, c in zip(uniq.tolist(), cnt.tolist())}


@contextlib.contextmanager
def _preserved_rng() -> Iterator[None]:
    import torch

    py_state = random.getstate()
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
