"""Live batches -> a ``BatchSubject``: the data rules (PF101-PF104, PF201) on what a loader yields.

``BatchReader`` is fed each batch the loader adapter (``preflight.inputs.torch_objects``) reads: it
merges the input's per-feature (or per-channel) moments (``preflight.stats.channels``), follows the
labels in loader order, and keeps a bounded copy of the batches for the checks on the model (PF4xx)
and for the probe on the user's own model. ``BatchSubject`` is a ``TableSubject`` whose columns are
the features or channels, so the table rules read it unchanged; ``normalize_fix`` is the fix line a
user of image data expects, ``transforms.Normalize(mean=[...], std=[...])``, with the measured numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from preflight.inputs.subject import Column, SetupSubject, TableSubject, Task
from preflight.inputs.tensors import is_tensor, to_numpy
from preflight.stats import channels
from preflight.stats.table import TableStats

KEEP_SAMPLES = 4096  # samples kept for the model checks and the user-model probe
KEEP_BYTES = 64 * 2**20
TOKEN_KEYS = ("input_ids", "token_ids", "tokens", "ids")
IMAGE_LAYOUTS = ("nchw", "nhwc", "grey", "volume")


@dataclass
class LiveRun:
    """The user's live objects and the batches kept of them (tensors, on the CPU, in loader order)."""

    model: Any = None
    loss: Any = None
    optimizer: Any = None
    batches: list[Any] = field(default_factory=list)
    batch_size: int | None = None
    shuffled: bool | None = None
    from_loader: bool = False
    layout: str | None = None
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    facts: Any = None  # preflight.inputs.model_stats.TrainingFacts, when a model and a loss were given
    probes: dict[str, Any] = field(default_factory=dict)  # the user-model probe's results, by fix family


@dataclass
class BatchSubject(TableSubject):
    """The batches a loader yields, as a table of their features (or channels)."""

    layout: str = "features"
    live: LiveRun | None = None


@dataclass
class LiveSetupSubject(SetupSubject):
    """A ``SetupSubject`` that also holds the live objects (model, loss, optimizer, kept batches)."""

    live: LiveRun | None = None


def _to_numpy(v: Any) -> np.ndarray | None:
    """A batch's features: a Tensor (bfloat16, sparse: read; meta: refused) or an array, else None."""
    return to_numpy(v, "the batches' features") if is_tensor(v) or isinstance(v, np.ndarray) else None


class BatchReader:
    """Fed batch by batch; ``subject()`` builds the ``BatchSubject`` afterwards."""

    def __init__(self, model: Any = None) -> None:
        self.stats: channels.BatchMoments | None = None
        self.labels: list[np.ndarray] = []
        self.kept: list[Any] = []
        self.kept_samples = 0
        self.kept_bytes = 0
        self.has_embedding = model is not None and any(type(m).__name__ in ("Embedding", "EmbeddingBag")
                                                       for m in model.modules())
        self.note = ""

    def add(self, batch: Any, x: Any, y: np.ndarray | None) -> None:
        arr = _to_numpy(x)
        if arr is not None and arr.dtype.kind in "fiub" and arr.ndim >= 1:
            if self.stats is None:
                key = self._input_key(batch)
                tokens = key in TOKEN_KEYS or (self.has_embedding and arr.dtype.kind in "iu" and arr.ndim <= 3)
                self.stats = channels.start(arr, prefix=f"{key}: " if key else "", tokens=tokens)
            if self.stats.layout != "tokens":
                self.stats.add(arr)
        if y is not None:
            self.labels.append(np.asarray(y))
        self._keep(batch, arr)

    def _input_key(self, batch: Any) -> str | None:
        if isinstance(batch, dict):
            from preflight.inputs.torch_model import INPUT_KEYS

            keys = {str(k).lower(): str(k) for k in batch}
            return next((keys[k] for k in INPUT_KEYS if k in keys), None)
        return None

    def _keep(self, batch: Any, arr: np.ndarray | None) -> None:
        if self.kept_samples >= KEEP_SAMPLES or arr is None:
            return
        size = int(arr.nbytes)
        if self.kept_bytes + size > KEEP_BYTES:
            return
        self.kept.append(batch)
        self.kept_samples += int(arr.shape[0]) if arr.ndim else 1
        self.kept_bytes += size

    def subject(self, display: str, live: LiveRun) -> BatchSubject | None:
        s = self.stats
        if s is None or s.moments is None or not s.names:
            return None
        stats = TableStats(numeric=list(s.names), moments=s.moments, n_rows=s.rows)
        target = None
        task: Task | None = None
        if self.labels:
            y = np.concatenate([np.asarray(v).reshape(-1) for v in self.labels])
            stats.add_target(y, np.zeros(len(y), dtype=bool))
            target = "label"
            k = len(stats.target_counts.counts)
            task = "binary" if k == 2 else "multiclass" if k > 2 else None
        columns = [Column(n, _kind(s, i), s.dtype) for i, n in enumerate(s.names)]
        notes = [f"batch statistics {channels.LAYOUT_WORDS.get(s.layout, s.layout)} over {s.rows} samples "
                 f"of shape {tuple(s.shape[1:])}"]
        if s.mismatched:
            notes.append(f"{s.mismatched} batch(es) of another shape were not merged")
        live.layout = s.layout
        live.mean, live.std = s.mean_std()
        # a loader's order is judged by PF203/PF204 (its sampler, its batches); PF201 reads the label order
        # of a Dataset or Tensor passed directly, whose stored order is the order a loader would keep
        order_task = None if live.from_loader else task
        return BatchSubject(path=None, display=display, columns=columns, stats=stats, target=target,
                            target_reason="the labels of the batches", task=order_task, notes=notes,
                            layout=s.layout, live=live)


def _kind(s: channels.BatchMoments, i: int) -> Any:
    m = s.moments
    assert m is not None
    lo, hi, mean, std = float(m.min[i]), float(m.max[i]), float(m.mean[i]), float(m.std[i])
    if lo >= 0 and hi <= 1 and abs(std * std - mean * (1 - mean)) < 1e-9 and s.dtype not in ("float32", "float64",
                                                                                              "float16"):
        return "binary"
    return "numeric"


def normalize_fix(subject: BatchSubject) -> str | None:
    """``transforms.Normalize(mean=[...], std=[...])`` with the measured per-channel numbers, for images."""
    live = subject.live
    if live is None or subject.layout not in IMAGE_LAYOUTS or not live.mean:
        return None
    mean = ", ".join(_num(v) for v in live.mean)
    std = ", ".join(_num(v) for v in live.std)
    nhwc = subject.layout == "nhwc"
    tail = "; the input is channels-last (N, H, W, C): permute to (N, C, H, W) first" if nhwc else ""
    return (f"transforms.Normalize(mean=[{mean}], std=[{std}]) on the float tensors the model receives "
            f"(statistics of the batches read; for uint8 images ToTensor() first divides by 255){tail}")


def _num(v: float) -> str:
    return f"{v:.4g}"
