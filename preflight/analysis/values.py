"""Abstract values: what the interpreter knows about an expression, and how knowledge joins.

Every expression evaluates to a ``Val``: the output of an activation (``act``), a module whose
output ends in an activation (``module``), a loss (``loss``), an instance of a local class
(``cls``), a tuple of values, a ``DataLoader`` (``loader``), or nothing known (``UNKNOWN``).
Where control flow meets, ``join`` keeps only what every side agrees on (a must-analysis).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Act:
    """An activation applied at a place in the file."""

    kind: str  # sigmoid / softmax / log_softmax
    line: int
    col: int
    how: str  # "torch.sigmoid", "nn.Sigmoid", ".softmax()"


@dataclass(frozen=True)
class Val:
    qual: str | None = None  # a name that resolves to this qualified name (a module, class, function)
    inst: str | None = None  # an instance of an external class, by qualified name
    act: Act | None = None  # a tensor whose last operation is an activation
    module: Act | None = None  # a callable module whose output ends with an activation
    loss: str | None = None  # a loss (bce / bce_logits / ce / nll / other)
    loss_name: str | None = None
    cls: str | None = None  # an instance of a local class
    ctor: str | None = None  # a local class itself
    func: str | None = None  # a local function
    items: tuple[Val, ...] | None = None  # a tuple or list of values
    loader: int | None = None  # a DataLoader record
    hint: str | None = None  # "train" / "eval": a dataset built for training or evaluation

    @property
    def known(self) -> bool:
        return self != UNKNOWN


UNKNOWN = Val()

_PLAIN_FIELDS = ("qual", "inst", "loss", "loss_name", "cls", "ctor", "func", "loader", "hint")
_ACT_FIELDS = ("act", "module")


def join(a: Val, b: Val) -> Val:
    """What is certain after control flow meets: only what both sides agree on."""
    if a == b:
        return a
    kw: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        kw[name] = va if va == vb else None
    for name in _ACT_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        kw[name] = va if (va is not None and vb is not None and va.kind == vb.kind) else None
    if a.items is not None and b.items is not None and len(a.items) == len(b.items):
        kw["items"] = tuple(join(x, y) for x, y in zip(a.items, b.items))
    return Val(**kw)


def join_all(vals: Iterable[Val]) -> Val:
    out: Val | None = None
    for v in vals:
        out = v if out is None else join(out, v)
    return out if out is not None else UNKNOWN


Env = dict[str, Val]  # name -> Val


def join_env(a: Env, b: Env) -> Env:
    return {k: join(a.get(k, UNKNOWN), b.get(k, UNKNOWN)) for k in a.keys() | b.keys()}


def join_envs(envs: list[Env]) -> Env:
    merged = envs[0]
    for e in envs[1:]:
        merged = join_env(merged, e)
    return merged
