"""Training-loop facts: a separate pass over a module's AST that reads its loops, calls and names.

The interpreter (``flow``) follows values; this pass reads the *shape* of the code a training loop
is made of: which calls happen in which loop, under which ``with`` block and ``if``, and what local
helper functions do. Nothing is imported or run. Names resolve through the module's imports
(``import torch.optim as optim`` makes ``optim.SGD`` ``torch.optim.SGD``; ``names.canonical`` folds
private module paths).

What one pass records, per function (module-level code is the function ``<module>``):

* ``CallFact``: each call's method name, receiver text and qualified name, the loops around it
  (innermost last), whether it sits under ``torch.no_grad()`` / ``inference_mode()`` /
  ``set_grad_enabled(False)``, and whether under an ``if`` whose test takes a modulo (``i % k``);
* ``AssignFact``: each assignment's target names and value (``total += loss``);
* ``LoopFact``: each loop, its parent loop, what it iterates (``val_loader``) and whether it runs
  under ``no_grad``.

Helpers are summarised transitively (``Summary``): a function of the file called (or passed, as an
LBFGS closure) inside a loop counts as part of it: whether it zeroes gradients, sets ``eval()`` or
``train()``, calls ``backward()``. Helpers resolve by bare name (``evaluate(...)``, ``self.evaluate``).
The rules that judge these facts are ``preflight.checks.loops`` (PF501-PF506).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property

from preflight.analysis.names import LOSS_FUNCS, LOSS_MODULES, NO_GRAD, OTHER_LOSS_RE, SET_GRAD, canonical
from preflight.analysis.parsing import Visitor, gc_paused, walk_statements
from preflight.analysis.syntax import dotted_name, source_of

MODULE = "<module>"
DISTRIBUTED_SAMPLER = "torch.utils.data.DistributedSampler"
# Calls that turn a loss tensor into a number or a graph-free tensor.
DETACHING = frozenset({"item", "detach", "tolist", "numpy", "float", "int", "data", "detach_"})
BACKWARD = frozenset({"backward", "manual_backward"})
DROPOUT_OR_NORM = re.compile(r"^(\w*Dropout\w*|\w*BatchNorm\w*|dropout\w*|batch_norm)$")
PRETRAINED = ("torchvision.models", "timm", "transformers")
_EVAL_TOKENS = {"val", "valid", "validate", "validation", "test", "testing", "eval", "evaluate", "evaluation",
                "dev"}


@dataclass(frozen=True)
class CallFact:
    node: ast.Call
    attr: str | None  # the method name (``step`` in ``opt.step()``); None for a plain call
    receiver: str | None  # the receiver's source text (``opt``, ``self.model``)
    qual: str | None  # the callee's qualified name when it resolves through an import
    name: str  # the callee as written, last part (``evaluate`` for ``self.evaluate(...)``)
    loops: tuple[int, ...]  # ids (``LoopFact.index``) of the enclosing loops, innermost last
    no_grad: bool
    modulo_if: bool  # under an ``if`` whose test takes a modulo: ``if (i + 1) % k == 0:``


@dataclass(frozen=True)
class AssignFact:
    node: ast.stmt
    targets: tuple[str, ...]
    value: ast.expr
    augmented: ast.operator | None  # the operator of ``x op= value``; None for ``x = value``
    loops: tuple[int, ...]
    no_grad: bool


@dataclass(frozen=True)
class LoopFact:
    index: int
    node: ast.For | ast.AsyncFor | ast.While
    parent: int | None
    iterates: str  # ``val_loader`` in ``for x, y in tqdm(val_loader):``; "" for a while loop
    no_grad: bool


@dataclass
class FunctionFacts:
    name: str
    node: ast.AST
    decorated_no_grad: bool = False
    calls: list[CallFact] = field(default_factory=list)
    assigns: list[AssignFact] = field(default_factory=list)
    loops: list[LoopFact] = field(default_factory=list)
    params: tuple[str, ...] = ()

    def in_loop(self, loop: int) -> list[CallFact]:
        return [c for c in self.calls if loop in c.loops]

    def assigns_in(self, loop: int) -> list[AssignFact]:
        return [a for a in self.assigns if loop in a.loops]


@dataclass
class Summary:
    """What a function does, its local helpers included (transitively)."""

    zero_grad: bool = False
    eval_mode: bool = False  # calls ``.eval()`` (or ``.train(False)``)
    train_mode: bool = False  # calls ``.train()`` / ``.train(True)``
    backward: bool = False
    restores: bool = False  # sets eval() and then train() again, so it leaves the mode as it found it


@dataclass
class LoopModule:
    """The training-loop facts of one module."""

    imports: dict[str, str]
    functions: list[FunctionFacts]
    summaries: dict[str, Summary]
    optimized: frozenset[str]  # receivers whose ``.parameters()`` reach an optimizer (``model``, ``self.net``)
    tree: ast.Module

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """Every name, attribute, keyword and imported name spelled in the code (not in strings):
        a walk of the whole module, done only when a rule asks."""
        out: set[str] = set()
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Name):
                out.add(n.id)
            elif isinstance(n, ast.Attribute):
                out.add(n.attr)
            elif isinstance(n, ast.keyword) and n.arg:
                out.add(n.arg)
            elif isinstance(n, ast.alias):
                out.add(n.name.split(".")[-1])
        return frozenset(out)

    def summary_of(self, call: CallFact) -> Summary | None:
        """A local helper's summary for a call of it (or a helper passed to it: ``opt.step(closure)``)."""
        return self.summaries.get(call.name) if call.attr is None or call.receiver in ("self", "cls") else None

    def helpers_in(self, calls: list[CallFact]) -> list[Summary]:
        out = [s for c in calls if (s := self.summary_of(c)) is not None]
        for c in calls:
            out.extend(self.summaries[a.id] for a in c.node.args if isinstance(a, ast.Name) and a.id in self.summaries)
        return out

    @property
    def has_dropout_or_norm(self) -> bool:
        """The file builds a module whose train and eval modes differ: dropout, batch norm, or a
        pretrained library model (torchvision, timm, transformers), which have them."""
        return any(DROPOUT_OR_NORM.match(n) for n in self.identifiers) or any(
            q.split(".")[0] in ("timm", "transformers") or q.startswith(PRETRAINED[0]) for q in self.imports.values())

    def callers_of(self, name: str) -> list[tuple[FunctionFacts, CallFact]]:
        return [(f, c) for f in self.functions for c in f.calls if c.name == name and self.summary_of(c) is not None]


def eval_named(text: str) -> bool:
    """A name that says validation or test: ``val_loader``, ``test_dl``, ``evaluate``, ``loaders['val']``."""
    return any(t in _EVAL_TOKENS for t in re.split(r"[^a-z]+", text.lower()) if t)


def imports_of(tree: ast.Module) -> dict[str, str]:
    """Local name -> qualified name, from every import of the module (function-level ones too; a
    later binding of a name wins, in ``ast.walk``'s order). Only the statements are walked."""
    out: dict[str, str] = {}
    for node in walk_statements(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def qualified(node: ast.expr, imports: dict[str, str]) -> str | None:
    """``nn.BCELoss`` -> ``torch.nn.BCELoss`` through the module's imports; None when it names no import."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    root, dot, rest = dotted.partition(".")
    return canonical(imports[root] + dot + rest) if root in imports else None


class _Pass(Visitor):
    """One walk over a function body (nested functions and classes get their own)."""

    def __init__(self, facts: FunctionFacts, imports: dict[str, str], pending: list[tuple[str, ast.AST]]) -> None:
        self.f, self.imports, self.pending = facts, imports, pending
        self.loops: list[int] = []
        self.no_grad = 0
        self.modulo = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.pending.append((node.name, node))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.pending.append((item.name, item))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        it = "" if isinstance(node, ast.While) else _iterated(node.iter)
        loop = LoopFact(len(self.f.loops), node, self.loops[-1] if self.loops else None, it, self.no_grad > 0)
        self.f.loops.append(loop)
        if not isinstance(node, ast.While):
            self.visit(node.iter)
        self.loops.append(loop.index)
        for s in node.body + node.orelse:
            self.visit(s)
        self.loops.pop()

    visit_For = visit_AsyncFor = visit_While = _loop

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        grad_off = any(self._grad_off(item.context_expr) for item in node.items)
        for item in node.items:
            self.visit(item.context_expr)
            if isinstance(item.optional_vars, ast.Name):  # ``with amp.scale_loss(loss, opt) as scaled:``
                self.f.assigns.append(AssignFact(node, (item.optional_vars.id,), item.context_expr, None,
                                                 tuple(self.loops), self.no_grad > 0))
        self.no_grad += grad_off
        for s in node.body:
            self.visit(s)
        self.no_grad -= grad_off

    visit_AsyncWith = visit_With

    def visit_If(self, node: ast.If) -> None:
        mod = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in ast.walk(node.test))
        self.visit(node.test)
        self.modulo += mod
        for s in node.body:
            self.visit(s)
        self.modulo -= mod
        for s in node.orelse:
            self.visit(s)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        receiver = source_of(func.value) if isinstance(func, ast.Attribute) else None
        name = attr if attr is not None else (func.id if isinstance(func, ast.Name) else "")
        self.f.calls.append(CallFact(node, attr, receiver, qualified(func, self.imports), name, tuple(self.loops),
                                     self.no_grad > 0, self.modulo > 0))
        self.generic_visit(node)

    def _assign(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is not None:
            names = tuple(source_of(t) for t in targets if isinstance(t, (ast.Name, ast.Attribute, ast.Subscript)))
            op = node.op if isinstance(node, ast.AugAssign) else None
            self.f.assigns.append(AssignFact(node, names, node.value, op, tuple(self.loops), self.no_grad > 0))
        self.generic_visit(node)

    visit_Assign = visit_AugAssign = visit_AnnAssign = _assign

    def _grad_off(self, e: ast.expr) -> bool:
        if not isinstance(e, ast.Call):
            return False
        q = qualified(e.func, self.imports)
        if q in NO_GRAD:
            return True
        return q in SET_GRAD and bool(e.args) and isinstance(e.args[0], ast.Constant) and e.args[0].value is False


_WRAPPERS = frozenset({"enumerate", "tqdm", "zip", "iter", "list", "sorted", "reversed", "trange"})


def _iterated(node: ast.expr) -> str:
    """What a loop iterates, through ``enumerate``/``tqdm``/``zip`` wrappers: their first argument
    (``range(...)`` and other calls stay whole)."""
    while (isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred)
           and (qualname_tail(node.func) in _WRAPPERS)):
        node = node.args[0]
    return source_of(node)


def qualname_tail(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")


def _decorated_no_grad(node: ast.AST, imports: dict[str, str]) -> bool:
    decorators = getattr(node, "decorator_list", [])
    return any(qualified(d.func if isinstance(d, ast.Call) else d, imports) in NO_GRAD for d in decorators)


@gc_paused
def analyse_loops(tree: ast.Module) -> LoopModule:
    """The training-loop facts of a parsed module."""
    imports = imports_of(tree)
    functions: list[FunctionFacts] = []
    pending: list[tuple[str, ast.AST]] = [(MODULE, tree)]
    while pending:
        name, node = pending.pop(0)
        args = getattr(node, "args", None)
        params = tuple(a.arg for a in (args.posonlyargs + args.args)) if isinstance(args, ast.arguments) else ()
        facts = FunctionFacts(name, node, _decorated_no_grad(node, imports), params=params)
        visitor = _Pass(facts, imports, pending)
        for s in getattr(node, "body", []):
            visitor.visit(s)
        functions.append(facts)
    return LoopModule(imports, functions, _summaries(functions), _optimized(functions, imports), tree)


def _direct(f: FunctionFacts) -> Summary:
    s = Summary()
    last_eval = last_train = -1
    for i, c in enumerate(f.calls):
        if is_zero_grad(c):
            s.zero_grad = True
        elif c.attr in BACKWARD:
            s.backward = True
        mode = mode_set(c)
        if mode == "eval":
            s.eval_mode, last_eval = True, i
        elif mode == "train":
            s.train_mode, last_train = True, i
    for a in f.assigns:  # ``p.grad = None``
        if a.augmented is None and any(t.endswith(".grad") for t in a.targets):
            s.zero_grad = True
    s.restores = s.eval_mode and last_train > last_eval
    return s


def _summaries(functions: list[FunctionFacts]) -> dict[str, Summary]:
    """Summaries of the named functions, helpers folded in until nothing changes (bounded)."""
    by_name: dict[str, list[FunctionFacts]] = {}
    for f in functions:
        if f.name != MODULE:
            by_name.setdefault(f.name, []).append(f)
    out: dict[str, Summary] = {}
    for name, fs in by_name.items():
        s = Summary()
        for f in fs:
            d = _direct(f)
            s = Summary(s.zero_grad or d.zero_grad, s.eval_mode or d.eval_mode, s.train_mode or d.train_mode,
                        s.backward or d.backward, s.restores or d.restores)
        out[name] = s
    for _ in range(4):
        if not _fold(out, by_name):
            break
    return out


def _fold(out: dict[str, Summary], by_name: dict[str, list[FunctionFacts]]) -> bool:
    """Fold each called helper's summary into its callers' once; True when something changed."""
    changed = False
    for name, fs in by_name.items():
        s = out[name]
        for c in (c for f in fs for c in f.calls):
            h = out.get(c.name) if (c.attr is None or c.receiver in ("self", "cls")) else None
            if h is None or h is s:
                continue
            new = (s.zero_grad or h.zero_grad, s.eval_mode or h.eval_mode, s.train_mode or h.train_mode,
                   s.backward or h.backward)
            if new != (s.zero_grad, s.eval_mode, s.train_mode, s.backward):
                s.zero_grad, s.eval_mode, s.train_mode, s.backward = new
                changed = True
    return changed


def _optimized(functions: list[FunctionFacts], imports: dict[str, str]) -> frozenset[str]:
    """Receivers whose ``.parameters()`` are handed to a ``torch.optim`` optimizer (or any call named
    like one: ``Adam``, ``make_optimizer``)."""
    out: set[str] = set()
    for f in functions:
        for c in f.calls:
            if not ((c.qual or "").startswith("torch.optim.") or "optim" in c.name.lower() or c.name in ("Adam",)):
                continue
            for n in ast.walk(c.node):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                        and n.func.attr in ("parameters", "named_parameters")):
                    out.add(source_of(n.func.value))
    return frozenset(out)


def is_zero_grad(c: CallFact) -> bool:
    """``opt.zero_grad()``, ``model.zero_grad(set_to_none=True)``, ``p.grad.zero_()``, ``p.grad.data.zero_()``."""
    if c.name == "zero_grad":
        return True
    return c.attr in ("zero_", "detach_", "fill_") and c.receiver is not None and ".grad" in c.receiver


def mode_set(c: CallFact) -> str | None:
    """"eval" for ``m.eval()`` / ``m.train(False)``, "train" for ``m.train()`` / ``m.train(True)``."""
    if c.attr == "eval" and not c.node.args and not c.node.keywords:
        return "eval"
    if c.attr != "train" or len(c.node.args) + len(c.node.keywords) > 1 or c.receiver is None:
        return None
    arg = c.node.args[0] if c.node.args else (c.node.keywords[0].value if c.node.keywords else None)
    if arg is None or (isinstance(arg, ast.Constant) and arg.value is True):
        return "train"
    if isinstance(arg, ast.Constant) and arg.value is False:
        return "eval"
    return "either"


def is_step(c: CallFact) -> bool:
    """An optimizer step: ``opt.step()``, ``optimizer_G.step()``, ``scaler.step(opt)`` (not a scheduler's)."""
    if c.attr != "step" or c.receiver is None:
        return False
    recv = c.receiver.lower()
    if "sched" in recv or "lr" in recv.split(".")[-1]:
        return False
    return "optim" in recv or "opt" in re.split(r"[^a-z]+", recv) or "scaler" in recv or recv.endswith("opt") or \
        bool(c.node.args and "opt" in source_of(c.node.args[0]).lower())


def is_loss_call(e: ast.expr, imports: dict[str, str]) -> bool:
    """A call that returns a loss tensor: a torch loss (module or function), or a callee named like
    one (``criterion(...)``, ``loss_fn(...)``, ``self.compute_loss(...)``); ``outputs.loss``."""
    if isinstance(e, ast.Attribute):
        return e.attr == "loss"
    if not isinstance(e, ast.Call):
        return False
    func = e.func
    if isinstance(func, ast.Call):  # ``nn.BCELoss()(pred, y)``
        q = qualified(func.func, imports) or ""
        return q in LOSS_MODULES or bool(OTHER_LOSS_RE.match(q))
    q = qualified(func, imports) or ""
    if q in LOSS_FUNCS or (OTHER_LOSS_RE.match(q) and q.startswith("torch.nn.functional.")):
        return True
    name = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
    low = name.lower()
    return ("loss" in low or "criterion" in low) and not low.startswith(("log", "print", "record", "update"))


def detached(e: ast.expr) -> bool:
    """An expression whose value carries no graph: ``loss.item()``, ``float(loss)``, ``loss.detach()``."""
    if isinstance(e, ast.Call):
        if isinstance(e.func, ast.Attribute) and e.func.attr in DETACHING:
            return True
        if isinstance(e.func, ast.Name) and e.func.id in ("float", "int", "len"):
            return True
    return isinstance(e, ast.Attribute) and e.attr == "data"
