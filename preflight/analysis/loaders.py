"""DataLoader calls as facts: where each is built, what names it is given, whether it shuffles,
whether its dataset is iterable, and which training loop iterates it."""

from __future__ import annotations

import ast

from preflight.analysis import names as n
from preflight.analysis.facts import LoaderFact, names_in, role_of, shuffle_of, shuffle_with_dicts
from preflight.analysis.scope import ClassInfo, Frame
from preflight.analysis.state import MAX_DEPTH, FlowState
from preflight.analysis.syntax import calls_backward, iterated_name, source_of
from preflight.analysis.values import UNKNOWN, Val


def _short_name(func_name: str) -> str:
    return func_name.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


def _reads_gradients_only(body: list[ast.stmt]) -> bool:
    """A loop that backwards to read ``.grad`` (a Fisher estimate, saliency) and updates nothing with it:
    its loader's order does not matter to any training. A call named for a step (``opt.step()``,
    ``train_step()``), a subtraction (``p -= lr * p.grad``) or an in-place method given a gradient
    (``p.data.add_(p.grad, alpha=-lr)``) is an update."""
    nodes = [x for s in body for x in ast.walk(s)]
    reads = any(_is_grad(x) for x in nodes)
    return reads and not any(_updates(x) for x in nodes)


def _is_grad(x: ast.AST) -> bool:
    return isinstance(x, ast.Attribute) and x.attr == "grad" and isinstance(x.ctx, ast.Load)


def _updates(x: ast.AST) -> bool:
    if isinstance(x, ast.AugAssign):
        return isinstance(x.op, ast.Sub) and any(_is_grad(g) for g in ast.walk(x.value))
    if not isinstance(x, ast.Call):
        return False
    name = x.func.attr if isinstance(x.func, ast.Attribute) else x.func.id if isinstance(x.func, ast.Name) else ""
    if "step" in name or "update" in name:
        return True
    return name.endswith("_") and any(_is_grad(g) for a in [*x.args, *(k.value for k in x.keywords)]
                                      for g in ast.walk(a))


class Loaders(FlowState):
    def dataloader(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> int:
        """The record of a ``DataLoader(...)`` call (one per call site, whatever context runs it)."""
        at = (e.lineno, e.col_offset)
        if at in self._loader_at:
            idx = self._loader_at[at]
            # seen again in another context: keep hints from this one too
            if not f.at_module:
                self.loaders[idx].hints.append(_short_name(f.func_name))
            return idx
        shuffle, reason = shuffle_of(e)
        sampler = kwargs.get("sampler", args[3] if len(args) > 3 else UNKNOWN)
        if sampler.inst and n.canonical(sampler.inst) == "torch.utils.data.SequentialSampler":
            shuffle, reason = "no", "its sampler is a SequentialSampler (the same order every epoch)"
        stars = [k.value for k in e.keywords if k.arg is None]
        if stars and shuffle == "unknown":
            dicts = []
            for node in stars:
                v = self.cheap(node, f)
                dicts.append((source_of(node), v.entries))
            shuffle, reason = shuffle_with_dicts(e, dicts)
        fact = LoaderFact(e.lineno, e.col_offset, getattr(e, "end_lineno", e.lineno) or e.lineno,
                          shuffle, reason, built_in=f.func_name, foreign=not self.own(f),
                          smoke_test=self.in_main and f.at_module and not self.trains_anywhere())
        if not f.at_module:
            fact.context = _short_name(f.func_name)
            fact.hints.append(fact.context)
            fact.own_hints.append(fact.context)
        self._read_dataset(fact, e, args, kwargs, f)
        self._loader_at[at] = len(self.loaders)
        self.loaders.append(fact)
        return len(self.loaders) - 1

    def _read_dataset(self, fact: LoaderFact, e: ast.Call, args: list[Val], kwargs: dict[str, Val],
                      f: Frame) -> None:
        positional = bool(e.args) and not isinstance(e.args[0], ast.Starred)
        ds_node = e.args[0] if positional else next((k.value for k in e.keywords if k.arg == "dataset"), None)
        ds = args[0] if positional else kwargs.get("dataset", UNKNOWN)
        if ds_node is None:
            return
        fact.dataset.extend(names_in(ds_node))
        fact.own_hints.extend(fact.dataset)
        if ds.hint:
            fact.dataset.append(ds.hint)
            if f.at_module:  # in a function the dataset value may come from one caller
                fact.own_hints.append(ds.hint)
        fact.hints.extend(fact.dataset)
        if ds.inst and ds.inst.startswith(n.ITERABLE_DATASETS):
            fact.iterable = True

    def hint(self, loader: int, hint: str, f: Frame, target: str | None = None) -> None:
        """A name given to a loader (assigned to it, a dict key); its own when given where it is built."""
        fact = self.loaders[loader]
        fact.hints.append(hint)
        if f.func_name == fact.built_in:
            fact.own_hints.append(hint)
        if target is not None:
            fact.targets.append(target)

    def mark_trained(self, loop: ast.For | ast.AsyncFor, it: Val, f: Frame) -> None:
        """A ``for`` loop that trains (calls backward) over a loader makes it a training loader."""
        loader = self._iterated_loader(loop.iter, it, f)
        if loader is None:
            return
        fact = self.loaders[loader]
        if not calls_backward(loop.body):
            fact.iterated.append(self.eval_ctx)
            return
        if _reads_gradients_only(loop.body):
            fact.iterated.append("reads gradients without an optimizer step")
            return
        via = iterated_name(loop.iter)
        if fact.trained_on is None or (role_of(fact.trained_via) == "eval" and role_of(via) != "eval"):
            fact.trained_on, fact.trained_via = loop.lineno, via
            fact.trained_outside = f.func_name != fact.built_in

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

    def is_iterable_dataset(self, cinfo: ClassInfo, seen: frozenset[str] = frozenset()) -> bool:
        for b in cinfo.bases:
            if b.qual and n.canonical(b.qual).startswith(n.ITERABLE_DATASETS):
                return True
            if (b.ctor and b.ctor in self.classes and b.ctor not in seen
                    and self.is_iterable_dataset(self.classes[b.ctor], seen | {cinfo.name})):
                return True
        return False
