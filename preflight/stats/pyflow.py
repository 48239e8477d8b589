"""What a Python training script does with its loader, model and loss, read from its AST.

Nothing here imports or runs the code it reads. Names resolve through the module's imports to
qualified names (as torchfix's ``get_qualified_name_for_call``), so ``import torch.nn as nn``,
``from torch.nn import BCELoss`` and ``import torch.nn.functional as F`` resolve, and a local class
called ``BCELoss`` or ``import torch.nn as F`` does not fool it.

Values are followed within one module by a small abstract interpreter:

* every expression evaluates to a ``Val``: the output of an activation (``act``), a module whose
  output ends in an activation (``module``), a loss (``loss``), an instance of a local class
  (``cls``), a tuple of values, a ``DataLoader`` (``loader``), or nothing known;
* statements run in order, so softmax applied *after* the loss does not reach it; the branches of an
  ``if`` join, and a value survives a join only when every branch agrees (a must-analysis: a model
  that returns logits in training and probabilities in eval is not reported);
* ``self.`` attributes come from every assignment in the class (a attribute assigned two
  different things is unknown), ``forward`` and helper methods are followed with their arguments,
  and module-level functions are followed from their call sites (a bounded number of levels).

Cross-file flow is out of scope: a model imported from another file is unknown, and unknown values
never produce a finding. The measured facts (``LossPair``, ``LoaderFact``) are judged by
``preflight.checks.activation`` and ``preflight.checks.loader``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

# --- qualified names ---------------------------------------------------------------------------

_PREFIX_ALIASES = (
    ("torch.nn.modules.loss.", "torch.nn."),
    ("torch.nn.modules.activation.", "torch.nn."),
    ("torch.nn.modules.container.", "torch.nn."),
    ("torch.nn.modules.linear.", "torch.nn."),
    ("torch.nn.modules.module.", "torch.nn."),
    ("torch.nn.modules.", "torch.nn."),
    ("torch.utils.data.dataloader.", "torch.utils.data."),
    ("torch.utils.data.dataset.", "torch.utils.data."),
    ("torch.utils.data.sampler.", "torch.utils.data."),
    ("torch.utils.data.distributed.", "torch.utils.data."),
    ("pytorch_lightning.", "lightning.pytorch."),
    ("lightning.pytorch.core.datamodule.", "lightning.pytorch."),
    ("lightning.pytorch.core.module.", "lightning.pytorch."),
    ("lightning.pytorch.core.", "lightning.pytorch."),
    ("lightning.LightningModule", "lightning.pytorch.LightningModule"),
    ("lightning.LightningDataModule", "lightning.pytorch.LightningDataModule"),
    ("lightning.Trainer", "lightning.pytorch.Trainer"),
)


def canonical(qualname: str) -> str:
    """The public spelling of a qualified name (``torch.nn.modules.loss.BCELoss`` -> ``torch.nn.BCELoss``)."""
    for old, new in _PREFIX_ALIASES:
        if qualname.startswith(old):
            return new + qualname[len(old):]
    return qualname


SIGMOID, SOFTMAX, LOG_SOFTMAX = "sigmoid", "softmax", "log_softmax"

ACTIVATION_FUNCS = {
    "torch.sigmoid": SIGMOID,
    "torch.nn.functional.sigmoid": SIGMOID,
    "torch.special.expit": SIGMOID,
    "torch.Tensor.sigmoid": SIGMOID,
    "torch.softmax": SOFTMAX,
    "torch.nn.functional.softmax": SOFTMAX,
    "torch.special.softmax": SOFTMAX,
    "torch.Tensor.softmax": SOFTMAX,
    "torch.log_softmax": LOG_SOFTMAX,
    "torch.nn.functional.log_softmax": LOG_SOFTMAX,
    "torch.special.log_softmax": LOG_SOFTMAX,
    "torch.Tensor.log_softmax": LOG_SOFTMAX,
}
ACTIVATION_METHODS = {"sigmoid": SIGMOID, "sigmoid_": SIGMOID, "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX}
ACTIVATION_MODULES = {
    "torch.nn.Sigmoid": SIGMOID,
    "torch.nn.Softmax": SOFTMAX,
    "torch.nn.Softmax2d": SOFTMAX,
    "torch.nn.LogSoftmax": LOG_SOFTMAX,
}

BCE, BCE_LOGITS, CE, NLL, OTHER_LOSS = "bce", "bce_logits", "ce", "nll", "other"
LOSS_MODULES = {
    "torch.nn.BCELoss": BCE,
    "torch.nn.BCEWithLogitsLoss": BCE_LOGITS,
    "torch.nn.CrossEntropyLoss": CE,
    "torch.nn.NLLLoss": NLL,
}
LOSS_FUNCS = {
    "torch.nn.functional.binary_cross_entropy": BCE,
    "torch.nn.functional.binary_cross_entropy_with_logits": BCE_LOGITS,
    "torch.binary_cross_entropy_with_logits": BCE_LOGITS,
    "torch.nn.functional.cross_entropy": CE,
    "torch.nn.functional.nll_loss": NLL,
}
LOSS_DISPLAY = {
    BCE: "BCELoss / F.binary_cross_entropy",
    BCE_LOGITS: "BCEWithLogitsLoss / F.binary_cross_entropy_with_logits",
    CE: "CrossEntropyLoss / F.cross_entropy",
    NLL: "NLLLoss / F.nll_loss",
}
# Other torch.nn losses: known, never paired (Sigmoid + MSELoss is a choice, not a bug).
_OTHER_LOSS_RE = re.compile(r"^torch\.nn\.(\w+Loss)$|^torch\.nn\.functional\.\w+_loss$")

# Calls and methods that keep a tensor's values (its activation) as they are.
SHAPE_METHODS = frozenset({
    "view", "reshape", "squeeze", "unsqueeze", "flatten", "float", "double", "half", "bfloat16", "to",
    "contiguous", "type", "type_as", "permute", "transpose", "clone", "cpu", "cuda", "view_as",
    "reshape_as", "clamp", "clamp_", "clip", "squeeze_", "unsqueeze_", "t",
})
SHAPE_FUNCS = frozenset({
    "torch.squeeze", "torch.unsqueeze", "torch.flatten", "torch.reshape", "torch.clamp", "torch.clip",
    "torch.permute", "torch.transpose",
})
# Methods of a module that return the module itself.
MODULE_SELF_METHODS = frozenset({"to", "cuda", "cpu", "train", "eval", "float", "double", "half",
                                 "requires_grad_", "type", "bfloat16"})

DATALOADER = "torch.utils.data.DataLoader"
WRAPPERS = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DataParallel",
                      "torch.nn.parallel.DistributedDataParallel", "torch.compile"})
ITERABLE_DATASETS = (
    "torch.utils.data.IterableDataset", "torch.utils.data.ChainDataset", "torch.utils.data.IterDataPipe",
    "torch.utils.data.datapipes", "torchdata", "webdataset", "datasets.IterableDataset",
    "datasets.iterable_dataset", "torchtext.datasets",
)
MODULE_BASES = ("torch.nn.Module", "lightning.pytorch.LightningModule")

MAX_DEPTH = 40  # nesting of one expression followed by the evaluator
MAX_CALL_DEPTH = 4  # functions followed from their call sites
MAX_CONTEXTS = 16  # argument bindings analysed per function


# --- abstract values ---------------------------------------------------------------------------

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
    items: tuple["Val", ...] | None = None  # a tuple or list of values
    loader: int | None = None  # a DataLoader record
    hint: str | None = None  # "train" / "eval": a dataset built for training or evaluation

    @property
    def known(self) -> bool:
        return self != UNKNOWN


UNKNOWN = Val()


def join(a: Val, b: Val) -> Val:
    """What is certain after control flow meets: only what both sides agree on."""
    if a == b:
        return a
    kw = {}
    for name in ("qual", "inst", "loss", "loss_name", "cls", "ctor", "func", "loader", "hint"):
        va, vb = getattr(a, name), getattr(b, name)
        kw[name] = va if va == vb else None
    for name in ("act", "module"):
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


Env = dict  # name -> Val


def join_env(a: Env, b: Env) -> Env:
    out = {}
    for k in a.keys() | b.keys():
        out[k] = join(a.get(k, UNKNOWN), b.get(k, UNKNOWN))
    return out


# --- facts -------------------------------------------------------------------------------------

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

    def decide_role(self) -> str | None:
        # A training loop that iterates it makes it a training loader, whatever names other callers
        # of a shared helper give their copies (``val_loader = build(val_ds)``), unless the loop
        # reaches it through an eval name or it is built for eval where it is written.
        if (self.trained_on is not None and role_of(self.trained_via) != "eval"
                and "eval" not in [role_of(h) for h in self.own_hints]):
            return "train"
        roles = [role_of(h) for h in self.hints]
        if "eval" in roles:
            return "eval"
        if "train" in roles:
            return "train"
        return None


_TOKEN_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_EVAL_PREFIXES = ("test", "val", "eval", "holdout", "predict", "infer", "calib")


def role_of(name: str) -> str | None:
    """``train_loader`` -> "train", ``valLoader`` -> "eval", ``loader`` -> None."""
    tokens = [t.lower() for t in _TOKEN_RE.findall(name)]
    if any(t.startswith(_EVAL_PREFIXES) or t in ("dev", "te", "vl") for t in tokens):
        return "eval"
    if any(t.startswith("train") or t in ("trn", "tr") for t in tokens):
        return "train"
    return None


class Scope:
    """The names a function body sees besides its own: the enclosing frame's names *when looked up*
    (module-level functions see globals assigned after their ``def``), then that frame's scope."""

    def __init__(self, frame: "Frame | None") -> None:
        self.frame = frame

    def get(self, name: str, default: "Val | None" = None) -> "Val | None":
        fr = self.frame
        if fr is None:
            return default
        if name in fr.env:
            return fr.env[name]
        return fr.globals.get(name, default)


EMPTY_SCOPE = Scope(None)


@dataclass
class ClassInfo:
    name: str
    node: ast.ClassDef
    bases: list[Val]
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    body_env: Env  # class-level assignments
    globals: Scope


@dataclass
class FuncInfo:
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    globals: Scope


class _Return(Exception):
    pass


# --- the interpreter ---------------------------------------------------------------------------

@dataclass
class Frame:
    env: Env
    globals: Scope
    cls: ClassInfo | None = None  # the class whose method this is (``self``)
    self_name: str | None = None
    func_name: str = "<module>"
    returns: list[Val] | None = None
    self_attrs: dict[str, Val] = field(default_factory=dict)  # assigned in this method so far
    collect_attrs: dict[str, list[Val]] | None = None
    call_depth: int = 0

    def lookup(self, name: str) -> Val:
        if name in self.env:
            return self.env[name]
        return self.globals.get(name, UNKNOWN)


class ModuleFlow:
    """Walks a module once and records loss pairs and DataLoader facts."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.classes: dict[str, ClassInfo] = {}
        self.funcs: dict[str, FuncInfo] = {}
        self.pairs: dict[tuple[int, int, str], LossPair] = {}
        self.loaders: list[LoaderFact] = []
        self._loader_at: dict[tuple[int, int], int] = {}
        self._attrs: dict[str, dict[str, Val]] = {}
        self._attrs_busy: set[str] = set()
        self._memo: dict[tuple, Val] = {}
        self._busy: set[tuple] = set()
        self._contexts: dict[str, int] = {}
        self.imports_torch = False

    # entry point
    def run(self) -> "ModuleFlow":
        frame = Frame(env={}, globals=EMPTY_SCOPE)
        self.exec_block(self.tree.body, frame)
        self.module_env = frame.env
        # every function and method once more on its own, with unknown arguments
        for info in list(self.funcs.values()):
            self.call_function(info, [], {}, 0, standalone=True)
        for cinfo in list(self.classes.values()):
            for mname, mnode in cinfo.methods.items():
                self.call_method(cinfo, mname, Val(cls=cinfo.name), [], {}, 0, standalone=True)
        for fact in self.loaders:
            fact.role = fact.decide_role()
        return self

    # --- statements --------------------------------------------------------------------------

    def exec_block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, s: ast.stmt, f: Frame) -> None:
        if isinstance(s, ast.Import):
            for a in s.names:
                if a.name.split(".")[0] in ("torch", "lightning", "pytorch_lightning"):
                    self.imports_torch = True
                if a.asname:
                    f.env[a.asname] = Val(qual=a.name)
                else:
                    top = a.name.split(".")[0]
                    f.env[top] = Val(qual=top)
        elif isinstance(s, ast.ImportFrom):
            if s.level or not s.module:
                for a in s.names:
                    f.env[a.asname or a.name] = UNKNOWN
                return
            if s.module.split(".")[0] in ("torch", "lightning", "pytorch_lightning"):
                self.imports_torch = True
            for a in s.names:
                if a.name == "*":
                    continue
                f.env[a.asname or a.name] = Val(qual=f"{s.module}.{a.name}")
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            key = self._func_key(s, f)
            self.funcs.setdefault(key, FuncInfo(key, s, Scope(f)))
            f.env[s.name] = Val(func=key)
        elif isinstance(s, ast.ClassDef):
            self.exec_class(s, f)
        elif isinstance(s, ast.Return):
            v = self.eval(s.value, f) if s.value is not None else UNKNOWN
            if f.returns is not None:
                f.returns.append(v)
        elif isinstance(s, ast.Assign):
            v = self.eval(s.value, f)
            for t in s.targets:
                self.assign(t, v, f, s.value)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, f), f, s.value)
        elif isinstance(s, ast.AugAssign):
            self.eval(s.value, f)
            self.assign(s.target, UNKNOWN, f, None)
        elif isinstance(s, ast.Expr):
            self.eval(s.value, f)
        elif isinstance(s, ast.If):
            self.eval(s.test, f)
            self.branch([s.body, s.orelse], f)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            it = self.eval(s.iter, f)
            self.assign(s.target, UNKNOWN, f, None)
            loader = self._iterated_loader(s.iter, it, f)
            if loader is not None and _calls_backward(s.body):
                fact = self.loaders[loader]
                via = _iterated_name(s.iter)
                if fact.trained_on is None or (role_of(fact.trained_via) == "eval" and role_of(via) != "eval"):
                    fact.trained_on, fact.trained_via = s.lineno, via
                    fact.trained_outside = f.func_name != fact.built_in
            self.branch([s.body + s.orelse, s.orelse], f)
        elif isinstance(s, ast.While):
            self.eval(s.test, f)
            self.branch([s.body + s.orelse, s.orelse], f)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                v = self.eval(item.context_expr, f)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, UNKNOWN, f, None)
            self.exec_block(s.body, f)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            before = dict(f.env)
            self.exec_block(s.body, f)
            self.exec_block(s.orelse, f)
            envs = [f.env]
            for h in s.handlers:
                hf_env = dict(before)
                saved = f.env
                f.env = hf_env
                self.exec_block(h.body, f)
                envs.append(f.env)
                f.env = saved
            merged = envs[0]
            for e in envs[1:]:
                merged = join_env(merged, e)
            f.env = merged
            self.exec_block(s.finalbody, f)
        elif isinstance(s, ast.Match):
            self.eval(s.subject, f)
            self.branch([c.body for c in s.cases] + [[]], f)
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                if isinstance(t, ast.Name):
                    f.env.pop(t.id, None)
        elif isinstance(s, (ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue, ast.Raise,
                            ast.Assert)):
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.eval(child, f)

    def branch(self, bodies: list[list[ast.stmt]], f: Frame) -> None:
        start = f.env
        start_attrs = f.self_attrs
        envs, attrs = [], []
        for body in bodies:
            f.env = dict(start)
            f.self_attrs = dict(start_attrs)
            self.exec_block(body, f)
            envs.append(f.env)
            attrs.append(f.self_attrs)
        merged = envs[0]
        for e in envs[1:]:
            merged = join_env(merged, e)
        f.env = merged
        ma = attrs[0]
        for a in attrs[1:]:
            ma = join_env(ma, a)
        f.self_attrs = ma

    def exec_class(self, s: ast.ClassDef, f: Frame) -> None:
        key = self._func_key(s, f)
        bases = [self.eval(b, f) for b in s.bases]
        methods = {}
        body_env: Env = {}
        cframe = Frame(env=body_env, globals=Scope(f), func_name=s.name)
        for stmt in s.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods[stmt.name] = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self.exec_stmt(stmt, cframe)
        self.classes[key] = ClassInfo(key, s, bases, methods, body_env, Scope(f))
        f.env[s.name] = Val(ctor=key)

    def _func_key(self, node: ast.AST, f: Frame) -> str:
        name = getattr(node, "name", "?")
        prefix = "" if f.func_name == "<module>" else f"{f.func_name}."
        key = f"{prefix}{name}"
        existing = self.funcs.get(key) or self.classes.get(key)
        if existing is not None and existing.node is not node:
            key = f"{key}@{node.lineno}"
        return key

    def assign(self, target: ast.expr, v: Val, f: Frame, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            f.env[target.id] = v
            if v.loader is not None:
                self._hint(v.loader, target.id, f, target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            items = v.items
            for i, t in enumerate(elts):
                if isinstance(t, ast.Starred):
                    self.assign(t.value, UNKNOWN, f, None)
                    items = None
                    continue
                sub = items[i] if items is not None and len(items) == len(elts) else UNKNOWN
                self.assign(t, sub, f, None)
        elif isinstance(target, ast.Attribute):
            self.eval(target.value, f)
            if v.loader is not None:
                self._hint(v.loader, target.attr, f, target.attr)
            if isinstance(target.value, ast.Name) and f.self_name and target.value.id == f.self_name:
                f.self_attrs[target.attr] = v
                if f.collect_attrs is not None:
                    f.collect_attrs.setdefault(target.attr, []).append(v)
        elif isinstance(target, ast.Subscript):
            self.eval(target.value, f)
            if v.loader is not None:
                key = target.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._hint(v.loader, key.value, f, f"{_source_of(target.value)}[{key.value!r}]")
                elif isinstance(target.value, ast.Name):
                    self._hint(v.loader, target.value.id, f)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, UNKNOWN, f, None)

    def _hint(self, loader: int, hint: str, f: Frame, target: str | None = None) -> None:
        """A name given to a loader (assigned to it, a dict key); its own when given where it is built."""
        fact = self.loaders[loader]
        fact.hints.append(hint)
        if f.func_name == fact.built_in:
            fact.own_hints.append(hint)
        if target is not None:
            fact.targets.append(target)

    # --- expressions -------------------------------------------------------------------------

    def eval(self, e: ast.expr | None, f: Frame, depth: int = 0) -> Val:
        if e is None:
            return UNKNOWN
        if depth > MAX_DEPTH:
            self._scan_calls(e, f)
            return UNKNOWN
        d = depth + 1
        if isinstance(e, ast.Name):
            if f.self_name and e.id == f.self_name and f.cls is not None:
                return Val(cls=f.cls.name)
            return f.lookup(e.id)
        if isinstance(e, ast.Attribute):
            return self.eval_attribute(e, f, d)
        if isinstance(e, ast.Call):
            return self.eval_call(e, f, d)
        if isinstance(e, (ast.Tuple, ast.List)):
            return Val(items=tuple(self.eval(x, f, d) if not isinstance(x, ast.Starred)
                                   else self._starred(x, f, d) for x in e.elts))
        if isinstance(e, ast.Subscript):
            base = self.eval(e.value, f, d)
            self.eval(e.slice, f, d)
            if base.act is not None:
                return Val(act=base.act)  # a slice of probabilities is still probabilities
            if base.items is not None and isinstance(e.slice, ast.Constant) and isinstance(e.slice.value, int):
                i = e.slice.value
                if -len(base.items) <= i < len(base.items):
                    return base.items[i]
            return UNKNOWN
        if isinstance(e, ast.IfExp):
            self.eval(e.test, f, d)
            return join(self.eval(e.body, f, d), self.eval(e.orelse, f, d))
        if isinstance(e, ast.Dict):
            for k, v in zip(e.keys, e.values):
                if k is not None:
                    self.eval(k, f, d)
                vv = self.eval(v, f, d)
                if vv.loader is not None and isinstance(k, ast.Constant) and isinstance(k.value, str):
                    self._hint(vv.loader, k.value, f, f"{{{k.value!r}: ...}}")
            return UNKNOWN
        if isinstance(e, ast.NamedExpr):
            v = self.eval(e.value, f, d)
            self.assign(e.target, v, f, e.value)
            return v
        if isinstance(e, ast.Lambda):
            return UNKNOWN  # its body runs when called; not followed
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self._scan_calls(e, f)
            return UNKNOWN
        if isinstance(e, ast.Await):
            return self.eval(e.value, f, d)
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self.eval(child, f, d)
        return UNKNOWN

    def _starred(self, x: ast.Starred, f: Frame, d: int) -> Val:
        self.eval(x.value, f, d)
        return UNKNOWN

    def _scan_calls(self, e: ast.AST, f: Frame) -> None:
        """Expressions not followed (comprehensions, very deep nesting): still see their loss calls."""
        for node in ast.walk(e):
            if isinstance(node, ast.Call):
                callee = self.cheap(node.func, f)
                if callee.loss is not None or (callee.qual and canonical(callee.qual) in LOSS_FUNCS):
                    self._check_loss_call(node, callee, f, MAX_DEPTH)

    def eval_attribute(self, e: ast.Attribute, f: Frame, d: int) -> Val:
        return self.attr_of(self.eval(e.value, f, d), e.attr, f)

    def attr_of(self, base: Val, attr: str, f: Frame) -> Val:
        if base.qual is not None:
            return Val(qual=f"{base.qual}.{attr}")
        if base.cls is not None:
            cinfo = self.classes.get(base.cls)
            if cinfo is not None:
                if f.cls is cinfo and attr in f.self_attrs:
                    return f.self_attrs[attr]
                return self.class_attr(cinfo, attr)
        if base.ctor is not None:
            cinfo = self.classes.get(base.ctor)
            if cinfo is not None and attr in cinfo.body_env:
                return cinfo.body_env[attr]
        return UNKNOWN

    def cheap(self, node: ast.expr, f: Frame) -> Val:
        """A name or a dotted chain of names, resolved without following calls (no recursion)."""
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return UNKNOWN
        v = Val(cls=f.cls.name) if (f.self_name and node.id == f.self_name and f.cls is not None) \
            else f.lookup(node.id)
        for attr in reversed(chain):
            v = self.attr_of(v, attr, f)
        return v

    def eval_call(self, e: ast.Call, f: Frame, d: int) -> Val:
        func = e.func
        if isinstance(func, ast.Attribute):
            recv = self.eval(func.value, f, d)
            callee = self.attr_of(recv, func.attr, f)
        else:
            recv = None
            callee = self.eval(func, f, d)
        args = [self.eval(a, f, d) if not isinstance(a, ast.Starred) else self._starred(a, f, d) for a in e.args]
        kwargs = {k.arg: self.eval(k.value, f, d) for k in e.keywords if k.arg is not None}
        for k in e.keywords:
            if k.arg is None:
                self.eval(k.value, f, d)

        # a loss applied to a prediction
        if callee.loss is not None or (callee.qual and canonical(callee.qual) in LOSS_FUNCS):
            self._check_loss_call(e, callee, f, d, args, kwargs)
            return UNKNOWN

        if callee.qual is not None:
            q = canonical(callee.qual)
            if q in ACTIVATION_FUNCS:
                return Val(act=Act(ACTIVATION_FUNCS[q], e.lineno, e.col_offset, _short(q)))
            if q in ACTIVATION_MODULES:
                return Val(module=Act(ACTIVATION_MODULES[q], e.lineno, e.col_offset, _short(q)))
            if q in LOSS_MODULES:
                return Val(loss=LOSS_MODULES[q], loss_name=_short(q))
            if _OTHER_LOSS_RE.match(q):
                return Val(loss=OTHER_LOSS, loss_name=_short(q))
            if q == "torch.nn.Sequential":
                return self._sequential(e, args, f, d)
            if q in WRAPPERS:
                return args[0] if args else UNKNOWN
            if q in SHAPE_FUNCS:
                x = args[0] if args else kwargs.get("input", UNKNOWN)
                return Val(act=x.act) if x.act is not None else UNKNOWN
            if q == "torch.log":
                x = args[0] if args else UNKNOWN
                if x.act is not None and x.act.kind == SOFTMAX:
                    return Val(act=replace(x.act, kind=LOG_SOFTMAX, how=x.act.how + " then torch.log"))
                return UNKNOWN
            if q == DATALOADER:
                return Val(loader=self._dataloader(e, args, kwargs, f), inst=q)
            if q == "datasets.load_dataset" and _kw_true(e, "streaming"):
                return Val(inst="datasets.IterableDataset")
            return Val(inst=q, hint=_call_hint(e))

        if recv is not None:  # a method of a value
            name = func.attr
            if recv.cls is not None and self._has_method(recv.cls, name):
                return self.call_method(self.classes[recv.cls], name, recv, args, kwargs, f.call_depth)
            if name in MODULE_SELF_METHODS and (recv.module is not None or recv.cls is not None):
                return recv
            if name == "forward" and recv.module is not None:
                return Val(act=recv.module)
            if callee.known:
                return self.call_value(callee, e, args, kwargs, f)
            if recv.cls is not None or recv.module is not None or recv.loss is not None or recv.ctor is not None:
                return UNKNOWN
            if name in ACTIVATION_METHODS:
                return Val(act=Act(ACTIVATION_METHODS[name], e.lineno, e.col_offset, f".{name}()"))
            if name in SHAPE_METHODS and recv.act is not None:
                return Val(act=recv.act)
            if name == "log" and recv.act is not None and recv.act.kind == SOFTMAX:
                return Val(act=replace(recv.act, kind=LOG_SOFTMAX, how=recv.act.how + " then .log()"))
            return UNKNOWN

        return self.call_value(callee, e, args, kwargs, f)

    def call_value(self, callee: Val, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> Val:
        if callee.module is not None:
            return Val(act=callee.module)
        if callee.cls is not None:
            cinfo = self.classes.get(callee.cls)
            if cinfo is not None and self._has_method(cinfo.name, "forward"):
                return self.call_method(cinfo, "forward", callee, args, kwargs, f.call_depth)
            return UNKNOWN
        if callee.ctor is not None:
            cinfo = self.classes.get(callee.ctor)
            if cinfo is None:
                return UNKNOWN
            if self._is_iterable_dataset(cinfo):
                return Val(cls=cinfo.name, inst="torch.utils.data.IterableDataset", hint=_call_hint(e))
            return Val(cls=cinfo.name, hint=_call_hint(e))
        if callee.func is not None:
            info = self.funcs.get(callee.func)
            if info is not None:
                return self.call_function(info, args, kwargs, f.call_depth)
        return UNKNOWN

    def _check_loss_call(self, e: ast.Call, callee: Val, f: Frame, d: int,
                         args: list[Val] | None = None, kwargs: dict[str, Val] | None = None) -> None:
        if callee.loss is not None:
            kind, name = callee.loss, callee.loss_name or callee.loss
        else:
            q = canonical(callee.qual or "")
            kind, name = LOSS_FUNCS[q], _short(q)
        if kind == OTHER_LOSS:
            return
        if e.args and not isinstance(e.args[0], ast.Starred):
            node = e.args[0]
            pred = args[0] if args is not None else self.eval(node, f, d)
        else:
            node = next((k.value for k in e.keywords if k.arg == "input"), None)
            if node is None:
                return
            pred = kwargs.get("input", UNKNOWN) if kwargs is not None else self.eval(node, f, d)
        if pred.act is None:
            return
        key = (e.lineno, e.col_offset, pred.act.kind + kind)
        if key not in self.pairs:
            self.pairs[key] = LossPair(pred.act, kind, name, e.lineno, e.col_offset,
                                       getattr(e, "end_lineno", e.lineno) or e.lineno, _source_of(node))

    def _sequential(self, e: ast.Call, args: list[Val], f: Frame, d: int) -> Val:
        if not e.args or isinstance(e.args[-1], ast.Starred):
            if e.args and isinstance(e.args[-1], ast.Starred):
                inner = self.eval(e.args[-1].value, f, d)
                if inner.items:
                    last = inner.items[-1]
                    return Val(module=last.module) if last.module is not None else Val(inst="torch.nn.Sequential")
            return Val(inst="torch.nn.Sequential")
        last = args[-1]
        if len(args) == 1 and e.args and isinstance(e.args[0], ast.Call):
            # Sequential(OrderedDict([...])) : the last pair's module
            inner = e.args[0]
            if inner.args and isinstance(inner.args[0], (ast.List, ast.Tuple)) and inner.args[0].elts:
                pair = inner.args[0].elts[-1]
                if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                    last = self.eval(pair.elts[1], f, d)
        if last.module is not None:
            return Val(module=last.module)
        if last.cls is not None:
            out = self.call_value(last, e, [], {}, f)
            if out.act is not None:
                return Val(module=out.act)
        return Val(inst="torch.nn.Sequential")

    # --- DataLoader ----------------------------------------------------------------------------

    def _dataloader(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> int:
        at = (e.lineno, e.col_offset)
        if at in self._loader_at:
            idx = self._loader_at[at]
            fact = self.loaders[idx]
            # seen again in another context: keep hints from this one too
            if f.func_name != "<module>":
                fact.hints.append(f.func_name.rsplit(".", 1)[-1])
            return idx
        shuffle, reason = _shuffle_of(e)
        fact = LoaderFact(e.lineno, e.col_offset, getattr(e, "end_lineno", e.lineno) or e.lineno,
                          shuffle, reason, built_in=f.func_name)
        if f.func_name != "<module>":
            fact.context = f.func_name.rsplit(".", 1)[-1]
            fact.hints.append(fact.context)
            fact.own_hints.append(fact.context)
        ds_node = e.args[0] if e.args and not isinstance(e.args[0], ast.Starred) else next(
            (k.value for k in e.keywords if k.arg == "dataset"), None)
        ds = args[0] if e.args and not isinstance(e.args[0], ast.Starred) else kwargs.get("dataset", UNKNOWN)
        if ds_node is not None:
            fact.dataset.extend(_names_in(ds_node))
            fact.own_hints.extend(fact.dataset)
            if ds.hint:
                fact.dataset.append(ds.hint)
                if f.func_name == "<module>":  # in a function the dataset value may come from one caller
                    fact.own_hints.append(ds.hint)
            fact.hints.extend(fact.dataset)
            if ds.inst and ds.inst.startswith(ITERABLE_DATASETS):
                fact.iterable = True
        self._loader_at[at] = len(self.loaders)
        self.loaders.append(fact)
        return len(self.loaders) - 1

    def _iterated_loader(self, node: ast.expr, v: Val, f: Frame) -> int | None:
        if v.loader is not None:
            return v.loader
        if isinstance(node, ast.Call):
            for a in node.args[:1]:
                inner = self.eval(a, f, MAX_DEPTH - 2) if not isinstance(a, ast.Starred) else UNKNOWN
                if inner.loader is not None:
                    return inner.loader
                if isinstance(a, ast.Call):
                    return self._iterated_loader(a, inner, f)
        return None

    def _is_iterable_dataset(self, cinfo: ClassInfo, seen: frozenset = frozenset()) -> bool:
        for b in cinfo.bases:
            if b.qual and canonical(b.qual).startswith(ITERABLE_DATASETS):
                return True
            if b.ctor and b.ctor in self.classes and b.ctor not in seen:
                if self._is_iterable_dataset(self.classes[b.ctor], seen | {cinfo.name}):
                    return True
        return False

    # --- classes and functions -----------------------------------------------------------------

    def _mro(self, cname: str) -> Iterator[ClassInfo]:
        seen = set()
        stack = [cname]
        while stack:
            c = stack.pop(0)
            if c in seen or c not in self.classes:
                continue
            seen.add(c)
            info = self.classes[c]
            yield info
            stack.extend(b.ctor for b in info.bases if b.ctor)

    def _has_method(self, cname: str, name: str) -> bool:
        return any(name in c.methods for c in self._mro(cname))

    def class_attr(self, cinfo: ClassInfo, attr: str) -> Val:
        attrs = self._class_attrs(cinfo)
        if attr in attrs:
            return attrs[attr]
        for c in self._mro(cinfo.name):
            if attr in c.body_env:
                return c.body_env[attr]
            if attr in c.methods:
                return UNKNOWN  # a bound method: followed at the call
        return UNKNOWN

    def _class_attrs(self, cinfo: ClassInfo) -> dict[str, Val]:
        if cinfo.name in self._attrs:
            return self._attrs[cinfo.name]
        if cinfo.name in self._attrs_busy:
            return {}
        self._attrs_busy.add(cinfo.name)
        collected: dict[str, list[Val]] = {}
        for c in self._mro(cinfo.name):
            for mname, mnode in c.methods.items():
                if not _assigns_self_attr(mnode):
                    continue
                frame = self._method_frame(c, mnode, Val(cls=cinfo.name), [], {}, 0)
                if frame is None:
                    continue
                frame.collect_attrs = collected
                try:
                    self.exec_block(mnode.body, frame)
                except RecursionError:
                    pass
        self._attrs_busy.discard(cinfo.name)
        result = {k: join_all(vs) for k, vs in collected.items()}
        self._attrs[cinfo.name] = result
        return result

    def _method_frame(self, cinfo: ClassInfo, node, self_val: Val, args: list[Val], kwargs: dict[str, Val],
                      call_depth: int) -> Frame | None:
        params = node.args.posonlyargs + node.args.args
        decos = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if "staticmethod" in decos:
            self_name, rest = None, params
        else:
            if not params:
                return None
            self_name, rest = params[0].arg, params[1:]
        env: Env = {}
        if self_name and "classmethod" not in decos:
            env[self_name] = self_val
        _bind(env, rest, node.args, args, kwargs)
        return Frame(env=env, globals=cinfo.globals, cls=cinfo if "classmethod" not in decos else None,
                     self_name=self_name if "classmethod" not in decos else None,
                     func_name=f"{cinfo.name}.{node.name}", returns=[], call_depth=call_depth + 1)

    def call_method(self, cinfo: ClassInfo, name: str, self_val: Val, args: list[Val], kwargs: dict[str, Val],
                    call_depth: int, standalone: bool = False) -> Val:
        owner = next((c for c in self._mro(cinfo.name) if name in c.methods), None)
        if owner is None:
            return UNKNOWN
        node = owner.methods[name]
        key = ("m", cinfo.name, owner.name, name, tuple(args), tuple(sorted(kwargs.items())))
        return self._run(key, node, call_depth, standalone,
                         lambda: self._method_frame(owner, node, self_val, args, kwargs, call_depth))

    def call_function(self, info: FuncInfo, args: list[Val], kwargs: dict[str, Val], call_depth: int,
                      standalone: bool = False) -> Val:
        key = ("f", info.name, tuple(args), tuple(sorted(kwargs.items())))

        def frame() -> Frame:
            env: Env = {}
            _bind(env, info.node.args.posonlyargs + info.node.args.args, info.node.args, args, kwargs)
            return Frame(env=env, globals=info.globals, func_name=info.name, returns=[],
                         call_depth=call_depth + 1)

        return self._run(key, info.node, call_depth, standalone, frame)

    def _run(self, key: tuple, node, call_depth: int, standalone: bool, make_frame) -> Val:
        if key in self._memo:
            return self._memo[key]
        if key in self._busy or (not standalone and call_depth >= MAX_CALL_DEPTH):
            return UNKNOWN
        fname = key[1] + "." + key[3] if key[0] == "m" else key[1]
        if not standalone:
            n = self._contexts.get(fname, 0)
            if n >= MAX_CONTEXTS:
                return UNKNOWN
            self._contexts[fname] = n + 1
        frame = make_frame()
        if frame is None:
            return UNKNOWN
        self._busy.add(key)
        try:
            self.exec_block(node.body, frame)
        finally:
            self._busy.discard(key)
        if isinstance(node, ast.AsyncFunctionDef) or _is_generator(node):
            result = UNKNOWN
        else:
            result = join_all(frame.returns) if frame.returns else UNKNOWN
            if frame.returns and _falls_off_end(node):
                result = join(result, UNKNOWN)
        self._memo[key] = result
        return result


# --- helpers -----------------------------------------------------------------------------------

def _short(q: str) -> str:
    for prefix, short in (("torch.nn.functional.", "F."), ("torch.nn.", "nn."), ("torch.special.", "torch.special.")):
        if q.startswith(prefix):
            return short + q[len(prefix):]
    return q


def _bind(env: Env, params: list[ast.arg], a: ast.arguments, args: list[Val], kwargs: dict[str, Val]) -> None:
    for i, p in enumerate(params):
        if i < len(args):
            env[p.arg] = args[i]
        else:
            env[p.arg] = kwargs.get(p.arg, UNKNOWN)
    for p in a.kwonlyargs:
        env[p.arg] = kwargs.get(p.arg, UNKNOWN)
    if a.vararg:
        env[a.vararg.arg] = UNKNOWN
    if a.kwarg:
        env[a.kwarg.arg] = UNKNOWN


def _assigns_self_attr(node) -> bool:
    params = node.args.posonlyargs + node.args.args
    if not params:
        return False
    me = params[0].arg
    for n in ast.walk(node):
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == me:
                        return True
    return False


def _is_generator(node) -> bool:
    for n in ast.walk(node):
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
    return False


def _falls_off_end(node) -> bool:
    """True when the function can end without a return (so it may return None)."""
    return not _always_returns(node.body)


def _always_returns(body: list[ast.stmt]) -> bool:
    for s in body:
        if isinstance(s, (ast.Return, ast.Raise)):
            return True
        if isinstance(s, ast.If) and _always_returns(s.body) and _always_returns(s.orelse):
            return True
        if isinstance(s, (ast.With, ast.AsyncWith)) and _always_returns(s.body):
            return True
        if isinstance(s, ast.Try) and _always_returns(s.body) and all(_always_returns(h.body) for h in s.handlers):
            return True
    return False


def _calls_backward(body: list[ast.stmt]) -> bool:
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward":
                return True
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step"
                    and isinstance(n.func.value, (ast.Name, ast.Attribute))
                    and "optim" in _source_of(n.func.value).lower()):
                return True
    return False


def _iterated_name(node: ast.expr) -> str:
    """The name a loop iterates a loader through: ``tqdm(enumerate(train_loader))`` -> "train_loader"."""
    while isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred):
        node = node.args[0]
    return _source_of(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else ""


def _kw_true(e: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in e.keywords)


def _call_hint(e: ast.Call) -> str | None:
    """``MNIST(root, train=True)`` -> "train"; ``split="test"`` -> "eval"; a path like "data/val"."""
    for k in e.keywords:
        if k.arg == "train" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool):
            return "train" if k.value.value else "eval"
        if k.arg in ("split", "subset", "mode", "stage", "phase") and isinstance(k.value, ast.Constant) \
                and isinstance(k.value.value, str):
            return role_of(k.value.value)
    for a in e.args[:2]:
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and len(a.value) < 200:
            for part in re.split(r"[/\\]", a.value):
                r = role_of(part)
                if r:
                    return r
    return None


def _names_in(node: ast.expr) -> list[str]:
    """Identifiers a dataset expression is written with (``train_ds``, ``self.trainset``)."""
    out = []
    if isinstance(node, ast.Name):
        out.append(node.id)
    elif isinstance(node, ast.Attribute):
        out.append(node.attr)
    elif isinstance(node, ast.Subscript):
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            out.append(node.slice.value)
        else:
            out.extend(_names_in(node.value))
    elif isinstance(node, ast.Call):
        hint = _call_hint(node)
        if hint:
            out.append(hint)
        for a in node.args[:1]:
            if isinstance(a, (ast.Name, ast.Attribute)):
                out.extend(_names_in(a))
    return out


def _shuffle_of(e: ast.Call) -> tuple[str, str]:
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


def _source_of(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of odd nodes
        return "<expr>"
    return text if len(text) <= 60 else text[:57] + "..."


def analyse(tree: ast.Module) -> ModuleFlow:
    """Run the flow analysis over a parsed module."""
    return ModuleFlow(tree).run()
