"""Per-feature statistics of live batches: which axis is a feature, and its mergeable moments.

Pure numpy. A batch tensor is viewed as rows x features the way a network reads it:

* ``(N, F)``: per feature;
* ``(N, C, H, W)`` images: per channel over every pixel; channels-last ``(N, H, W, C)`` is detected
  when the last axis has 1, 3 or 4 entries and axis 1 does not;
* ``(N, H, W)`` with ``H == W >= 8``: one grey channel; any other ``(N, T, F)``: per feature over time steps;
* token ids (integer input to an embedding) are not features: ``layout`` is ``"tokens"`` and no moments.

``BatchMoments.add`` merges each batch's ``Moments`` (``preflight.stats.moments``), so the statistics of
the batches read are those of their union, whatever the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from preflight.stats.moments import Moments

MAX_ROWS_PER_BATCH = 65_536  # pixel rows kept per batch (evenly strided): bounds the cost on large images
LAYOUT_WORDS = {
    "features": "per feature", "nchw": "per channel (N, C, H, W)", "nhwc": "per channel, channels-last (N, H, W, C)",
    "grey": "one grey channel (N, H, W)", "sequence": "per feature over time steps (N, T, F)",
    "volume": "per channel (N, C, ...)", "tokens": "token ids (not features)",
}


def detect_layout(shape: tuple[int, ...], integer: bool = False, tokens: bool = False) -> str:
    """The layout name of a batch of ``shape`` (see the module docstring)."""
    if tokens and integer:
        return "tokens"
    nd = len(shape)
    if nd <= 2:
        return "features"
    if nd == 3:
        return "grey" if shape[1] == shape[2] and shape[1] >= 8 else "sequence"
    if nd == 4:
        return "nhwc" if shape[3] in (1, 3, 4) and shape[1] not in (1, 3, 4) else "nchw"
    return "volume"


def feature_axis_names(layout: str, shape: tuple[int, ...], prefix: str = "") -> list[str]:
    if layout == "tokens":
        return []
    if layout in ("nchw", "volume"):
        n, word = shape[1], "channel"
    elif layout == "nhwc":
        n, word = shape[-1], "channel"
    elif layout == "grey":
        n, word = 1, "channel"
    else:
        n, word = (shape[-1] if len(shape) >= 2 else 1), "feature"
    return [f"{prefix}{word} {i}" for i in range(n)]


def as_rows(x: np.ndarray, layout: str) -> np.ndarray:
    """``x`` as a float64 (rows, features) array for ``layout``, at most ``MAX_ROWS_PER_BATCH`` rows."""
    if layout in ("nchw", "volume"):
        rows = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    elif layout == "grey" or x.ndim <= 1:
        rows = x.reshape(-1, 1)
    else:
        rows = x.reshape(-1, x.shape[-1])
    if len(rows) > MAX_ROWS_PER_BATCH:
        rows = rows[:: -(-len(rows) // MAX_ROWS_PER_BATCH)]
    return np.asarray(rows, dtype=np.float64)


@dataclass
class BatchMoments:
    """Moments of a stream of batches of one input, merged batch by batch."""

    layout: str
    names: list[str]
    shape: tuple[int, ...]  # of the first batch
    dtype: str
    moments: Moments | None = None
    rows: int = 0  # samples (dim 0) read
    mismatched: int = 0  # batches whose shape did not fit the first one's (not merged)

    def add(self, x: np.ndarray) -> None:
        if x.ndim != len(self.shape) or (x.ndim >= 2 and _feature_count(x, self.layout) != len(self.names)):
            self.mismatched += 1
            return
        m = Moments.from_array(as_rows(x, self.layout))
        self.moments = m if self.moments is None else self.moments.merge(m)
        self.rows += int(x.shape[0]) if x.ndim else 1

    def mean_std(self) -> tuple[list[float], list[float]]:
        if self.moments is None:
            return [], []
        return [float(v) for v in self.moments.mean], [float(v) for v in self.moments.std]


def _feature_count(x: np.ndarray, layout: str) -> int:
    return len(feature_axis_names(layout, tuple(x.shape)))


def start(x: np.ndarray, prefix: str = "", tokens: bool = False) -> BatchMoments:
    """An empty accumulator for batches shaped like ``x``."""
    layout = detect_layout(tuple(x.shape), x.dtype.kind in "iu" and x.dtype != np.uint8, tokens)
    return BatchMoments(layout, feature_axis_names(layout, tuple(x.shape), prefix), tuple(x.shape), str(x.dtype))
