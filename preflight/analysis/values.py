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
    path: str = ""  # the file, when it is another module of the project than the one checked


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
    # a dict of keyword arguments built in the code: (key, value as written, condition) per key; the
    # condition is "" when the key is always set, else the branch that sets it ("when `use_cuda`")
    const: str | None = None  # True / False / None, as written
    entries: tuple[tuple[str, str, str], ...] | None = None
    cargs: tuple[Val, ...] | None = None  # a local class instance: the values its constructor was given
    ckwargs: tuple[tuple[str, Val], ...] | None = None

    @property
    def known(self) -> bool:
        return self != UNKNOWN


UNKNOWN = Val()

_PLAIN_FIELDS = ("qual", "inst", "loss", "loss_name", "cls", "ctor", "func", "loader", "hint", "cargs", "ckwargs",
                 "const")
BRANCH = "<branch>"  # the condition of a dict key set on some branches only, named by the join's caller
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
    if a.entries is not None and b.entries is not None:
        kw["entries"] = join_entries(a.entries, b.entries)
    return Val(**kw)


def join_entries(a: tuple[tuple[str, str, str], ...], b: tuple[tuple[str, str, str], ...]) \
        -> tuple[tuple[str, str, str], ...]:
    """Keys both sides set alike stay as they are; a key set on one side only (or differently) is
    conditional: its condition is ``BRANCH`` until the caller names the branch."""
    da, db = {k: (v, c) for k, v, c in a}, {k: (v, c) for k, v, c in b}
    out = []
    for key in sorted(da.keys() | db.keys()):
        va, vb = da.get(key), db.get(key)
        if va == vb and va is not None:
            out.append((key, va[0], va[1]))
        elif va is not None and vb is not None and va[0] != vb[0]:
            out.append((key, "?", ""))
        else:
            v, c = va or vb or ("?", "")
            out.append((key, v, c or BRANCH))
    return tuple(out)


def set_entries(entries: tuple[tuple[str, str, str], ...], new: dict[str, tuple[str, str]] | None) \
        -> tuple[tuple[str, str, str], ...] | None:
    """Dict entries with keys set (``d[k] = v``, ``d.update(...)``); ``None`` (unknown) for an unknown key."""
    if new is None:
        return None
    d = {k: (v, c) for k, v, c in entries}
    d.update(new)
    return tuple((k, v, c) for k, (v, c) in sorted(d.items()))


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
