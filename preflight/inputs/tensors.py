"""A torch Tensor's values as a NumPy array, for every Tensor a user can hand over.

``Tensor.numpy()`` refuses what NumPy cannot hold or what holds no values: bfloat16 (read here as
float32, exactly), a sparse layout (read dense), a tensor that requires grad or lives on a device
(detached, copied to the CPU). A meta tensor has a shape and no values: ``tensor_numpy`` raises
``PreflightError`` naming ``what`` it is, since checking it would check nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preflight.errors import PreflightError

MAX_DENSE_ELEMENTS = 200_000_000  # a sparse tensor read dense: 800 MB of float32 at most


def is_tensor(v: Any) -> bool:
    return hasattr(v, "detach") and hasattr(v, "cpu")


def tensor_numpy(t: Any, what: str = "the tensor") -> np.ndarray:
    """``t``'s values (detached, on the CPU, dense; bfloat16 as float32). Raises ``PreflightError``
    for a meta tensor or a sparse one too large to read dense."""
    if getattr(t, "is_meta", False):
        raise PreflightError(f"{what}: a meta tensor (device='meta') has a shape and no values, so there is "
                             "nothing to check; materialize it on a real device first")
    t = t.detach()
    if getattr(t, "is_sparse", False) or str(getattr(t, "layout", "")).startswith("torch.sparse"):
        if t.numel() > MAX_DENSE_ELEMENTS:
            raise PreflightError(f"{what} is a sparse tensor of {t.numel():,} elements, too large to read dense; "
                                 "pass a sample of its rows")
        t = t.to_dense()
    t = t.cpu()
    import torch

    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16; every bfloat16 is exactly a float32
        t = t.float()
    return np.asarray(t.resolve_conj().resolve_neg().numpy())


def to_numpy(v: Any, what: str = "the tensor") -> np.ndarray | None:
    """A Tensor, an array, a list of numbers or a number as an array; None for anything else (or a
    list that is not rectangular numbers). A meta tensor raises (``tensor_numpy``)."""
    if is_tensor(v):
        try:
            return tensor_numpy(v, what)
        except PreflightError:
            raise
        except Exception:  # a tensor subclass or an exotic dtype NumPy cannot hold
            return None
    if isinstance(v, np.ndarray):
        return v
    if isinstance(v, (list, tuple)):
        try:
            arr = np.asarray(v)
        except Exception:
            return None
        return arr if arr.dtype != object else None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return np.asarray([v])
    return None
