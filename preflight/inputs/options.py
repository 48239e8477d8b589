"""How to read an input: plain values, importable without polars or torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReadOptions:
    target: str | None = None
    target_source: str = "--target"  # where the target was named, for messages: --target, target=, a config file
    task: str | None = None  # binary / multiclass / regression: overrides the inference (--task, task =, task=)
    task_source: str = "--task"
    stdin_name: str | None = None  # --stdin-filename: the type and the name of standard input ("-")
    on_rows: Callable[[int], None] | None = field(default=None, compare=False)  # progress: rows read
    # a folder or prefix read as one table (``preflight.inputs.dataset.Shards``): each file's batches
    # are folded into it, the file's subject carrying only its statistics
    dataset: Any = field(default=None, compare=False)
