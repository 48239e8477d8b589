"""The facts the checks read: loss calls fed an activation, and DataLoader calls.

``LossPair`` is judged by ``preflight.checks.activation``; ``LoaderFact`` (and ``role_of``, which
reads train / eval from a name) by ``preflight.checks.loader``. The syntax-only readers of a
DataLoader call (does it shuffle, what does its dataset say) live here with the fact they fill.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from preflight.analysis.syntax import str_constant
from preflight.analysis.values import Act


@dataclass(frozen=True)
class LossPair:
    """A loss call whose prediction argument ends with an activation."""

    act: Act
    loss: str
    loss_name: str
    line: int
    col: int
    end_line: int
    arg: str  # the prediction argument as written
    # why it is only ever reached on an evaluation path ("under `torch.no_grad()`", "in `validate()`",
    # "after `model.eval()`"); "" when a training path reaches it
    eval_only: str = ""


@dataclass
class LoaderFact:
    """A ``torch.utils.data.DataLoader(...)`` call and what decides whether it shuffles."""

    line: int
    col: int
    end_line: int
    shuffle: str  # "yes", "no", "unknown"
    reason: str  # why "no": "shuffle=False", "no shuffle argument and no sampler", ...
    hints: list[str] = field(default_factory=list)  # names that say train / eval
    # the hints written where it is built: the building function's name, its dataset expression,
    # the names it is assigned to in that same function (not the names its callers give it)
    own_hints: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # names it is assigned to
    context: str = ""  # the function that builds it
    built_in: str = "<module>"  # that function's key in the flow ("<module>" at the top level)
    dataset: list[str] = field(default_factory=list)  # names and hints of its dataset
    iterable: bool = False  # its dataset is an IterableDataset
    trained_on: int | None = None  # line of a training loop (backward) that iterates it
    trained_via: str = ""  # the expression that loop iterates it through (``train_loader``)
    trained_outside: bool = False  # that loop is outside the function that builds it (a caller's)
    role: str | None = None  # "train" / "eval" / None
    # built under ``if __name__ == "__main__":`` in a file that never trains (a module's smoke test)
    smoke_test: bool = False
    foreign: bool = False  # built in an imported module's code (that module's finding, not this file's)
    # loops that iterate it without training, each with its evaluation context ("" when none):
    # a loader only iterated under ``no_grad`` (feature extraction) is not a training loader
    iterated: list[str] = field(default_factory=list)

    def decide_role(self) -> str | None:
        # A training loop that iterates it makes it a training loader, whatever names other callers
        # of a shared helper give their copies (``val_loader = build(val_ds)``), unless the loop
        # reaches it through an eval name or it is built for eval where it is written.
        if (self.trained_on is not None and role_of(self.trained_via) != "eval"
                and "eval" not in [role_of(h) for h in self.own_hints]):
            return "train"
        if self.trained_on is None and (self.smoke_test or (self.iterated and all(self.iterated))):
            return None  # only ever iterated on evaluation paths: whatever its name, not trained on
        roles = [role_of(h) for h in self.hints]
        if "eval" in roles:
            return "eval"
        if "train" in roles:
            return "train"
        return None


_TOKEN_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_EVAL_PREFIXES = ("test", "val", "eval", "holdout", "predict", "infer", "calib")
_SPLIT_KEYWORDS = ("split", "subset", "mode", "stage", "phase")


def role_of(name: str) -> str | None:
    """``train_loader`` -> "train", ``valLoader`` -> "eval", ``loader`` -> None."""
    tokens = [t.lower() for t in _TOKEN_RE.findall(name)]
    if any(t.startswith(_EVAL_PREFIXES) or t in ("dev", "te", "vl") for t in tokens):
        return "eval"
    if any(t.startswith("train") or t in ("trn", "tr") for t in tokens):
        return "train"
    return None


def is_eval_name(name: str) -> bool:
    """A function named for evaluation: ``validation_step``, ``evaluate``, ``test``, ``val_epoch``
    (and not for training too: ``train_and_eval`` is not)."""
    tokens = [t.lower() for t in _TOKEN_RE.findall(name)]
    if any(t.startswith("train") for t in tokens):
        return False
    return any(t in _EVAL_WORDS or t.startswith("eval") for t in tokens)


_EVAL_WORDS = frozenset({"val", "valid", "validate", "validation", "validating", "test", "testing", "tests",
                         "predict", "prediction", "inference", "infer", "score", "dev"})


def call_hint(e: ast.Call) -> str | None:
    """``MNIST(root, train=True)`` -> "train"; ``split="test"`` -> "eval"; a path like "data/val"."""
    for k in e.keywords:
        if k.arg == "train" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool):
            return "train" if k.value.value else "eval"
        text = str_constant(k.value)
        if k.arg in _SPLIT_KEYWORDS and text is not None:
            return role_of(text)
    for a in e.args[:2]:
        text = str_constant(a)
        if text is not None and len(text) < 200:
            hint = _path_hint(text)
            if hint:
                return hint
    return None


def _path_hint(path: str) -> str | None:
    for part in re.split(r"[/\\]", path):
        r = role_of(part)
        if r:
            return r
    return None


def names_in(node: ast.expr) -> list[str]:
    """Identifiers a dataset expression is written with (``train_ds``, ``self.trainset``)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Subscript):
        key = str_constant(node.slice)
        return [key] if key is not None else names_in(node.value)
    if isinstance(node, ast.Call):
        hint = call_hint(node)
        out = [hint] if hint else []
        for a in node.args[:1]:
            if isinstance(a, (ast.Name, ast.Attribute)):
                out.extend(names_in(a))
        return out
    return []


def shuffle_with_dicts(e: ast.Call, dicts: list[tuple[str, tuple[tuple[str, str, str], ...] | None]]) \
        -> tuple[str, str]:
    """``DataLoader(ds, **train_kwargs)`` with the dicts built in the code: ``("no", reason)`` when
    it certainly does not shuffle, or shuffles only on one branch (``shuffle=True`` set only when
    ``use_cuda``); ``dicts`` holds each ``**name`` and its entries (None: unknown)."""
    kw = _merged_keywords(e, dicts)
    if kw is None or any(key in kw and kw[key][0] != "None" for key in ("sampler", "batch_sampler")):
        return "unknown", ""
    names = ", ".join(f"`**{name}`" for name, _ in dicts)
    if "shuffle" not in kw:
        return "no", f"no shuffle in {names} and no sampler"
    val, cond, name = kw["shuffle"]
    if val == "False" and not cond:
        return "no", f"shuffle=False in `**{name}`" if name else "shuffle=False"
    if val == "True" and cond:
        return "no", f"shuffle=True is set in `**{name}` {cond}; on the other branch it does not shuffle"
    return ("yes", "") if val == "True" else ("unknown", "")


def _merged_keywords(e: ast.Call, dicts: list[tuple[str, tuple[tuple[str, str, str], ...] | None]]) \
        -> dict[str, tuple[str, str, str]] | None:
    """key -> (value as written, condition, the dict it comes from) over the call's keywords and dicts."""
    if any(isinstance(a, ast.Starred) for a in e.args) or len(e.args) > 2 or any(d is None for _, d in dicts):
        return None
    kw = {k.arg: ((repr(k.value.value) if isinstance(k.value, ast.Constant) else "?"), "", "")
          for k in e.keywords if k.arg is not None}
    for name, entries in dicts:
        for key, val, cond in entries or ():
            kw[key] = (val, cond, name)
    return kw


def shuffle_of(e: ast.Call) -> tuple[str, str]:
    """("no", reason) when the DataLoader call certainly does not shuffle; else ("yes" | "unknown", "")."""
    if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
        return "unknown", ""
    kw = {k.arg: k.value for k in e.keywords}
    pos = e.args

    def arg(name: str, index: int) -> ast.expr | None:
        if name in kw:
            return kw[name]
        return pos[index] if len(pos) > index else None

    for name, index in (("sampler", 3), ("batch_sampler", 4)):
        s = arg(name, index)
        if s is not None and not (isinstance(s, ast.Constant) and s.value is None):
            return "unknown", ""
    sh = arg("shuffle", 2)
    if sh is None:
        return "no", "no shuffle argument and no sampler"
    if isinstance(sh, ast.Constant):
        if sh.value:
            return "yes", ""
        where = "shuffle=" if "shuffle" in kw else "shuffle passed positionally as "
        return "no", f"{where}{sh.value!r}"
    return "unknown", ""
