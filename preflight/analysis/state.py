"""What one walk of a module accumulates, and the interpreter's parts as one interface.

The interpreter is split by concern into mixins (statements, expressions, calls, loaders) that call
one another; ``FlowState`` holds the shared state and declares the methods each part provides, so
every part type-checks on its own. ``preflight.analysis.flow.ModuleFlow`` joins them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from preflight.analysis.facts import LoaderFact, LossPair
from preflight.analysis.project import Table, new_tag
from preflight.analysis.scope import MODULE, ClassInfo, Frame, FuncInfo
from preflight.analysis.values import Env, Val

MAX_DEPTH = 40  # nesting of one expression followed by the evaluator
MAX_CALL_DEPTH = 4  # functions followed from their call sites
MAX_CONTEXTS = 16  # argument bindings analysed per function


class FlowState:
    def __init__(self, tree: ast.Module, path: Path | None = None) -> None:
        self.tree = tree
        self.path = path  # the file, when it is read as part of a project (its imports are followed)
        self.tag = new_tag() if path is not None else ""  # prefixes this module's class and function keys
        self.deps: dict[str, FlowState] = {}  # the modules it imports (and theirs), by tag
        self.classes: dict[str, ClassInfo] = Table(self.deps, "classes")
        self.funcs: dict[str, FuncInfo] = Table(self.deps, "funcs")
        self.pairs: dict[tuple[int, int, str], LossPair] = {}
        self.loaders: list[LoaderFact] = []
        self.module_env: Env = {}
        self.imports_torch = False
        self._loader_at: dict[tuple[int, int], int] = {}
        self._attrs: dict[tuple, dict[str, Val]] = {}
        self._attrs_busy: set[tuple] = set()
        self._memo: dict[tuple, Val] = {}
        self._busy: set[tuple] = set()
        self._contexts: dict[str, int] = {}
        # why the code being run is on an evaluation path ("" on a training path): under no_grad,
        # after ``model.eval()``, in a function named for validation or testing
        self.eval_ctx = ""
        self.in_main = False  # walking the body of ``if __name__ == "__main__":``
        self._metric_sites: set[tuple[int, int]] | None = None
        self._trains: bool | None = None

    def trains_anywhere(self) -> bool:
        if self._trains is None:
            from preflight.analysis.syntax import trains_anywhere

            self._trains = trains_anywhere(self.tree)
        return self._trains

    def metric_sites(self) -> set[tuple[int, int]]:
        """Loss calls whose value is read as a number, logged or differentiated for an input (not trained)."""
        if self._metric_sites is None:
            from preflight.analysis.syntax import metric_loss_sites

            self._metric_sites = metric_loss_sites(self.tree)
        return self._metric_sites

    # provided by preflight.analysis.statements
    def exec_block(self, body: list[ast.stmt], frame: Frame) -> None:
        raise NotImplementedError

    def exec_stmt(self, s: ast.stmt, f: Frame) -> None:
        raise NotImplementedError

    def assign(self, target: ast.expr, v: Val, f: Frame) -> None:
        raise NotImplementedError

    def own(self, f: Frame) -> bool:
        """The frame runs this module's code (not an imported module's, followed from here)."""
        return not self.tag or f.func_name == MODULE or f.func_name.startswith(self.tag)

    def file_of(self, f: Frame) -> str:
        """"" for this module's code; else the imported module's file, relative to this one's folder."""
        if self.own(f) or self.path is None:
            return ""
        dep = self.deps.get(f.func_name.split(":", 1)[0] + ":")
        if dep is None or dep.path is None:
            return ""
        try:
            return dep.path.relative_to(self.path.parent).as_posix()
        except ValueError:
            return str(dep.path)

    # provided by preflight.analysis.flow
    def module_attr(self, ref: str, attr: str) -> Val:
        raise NotImplementedError

    def resolve_ref(self, v: Val) -> Val:
        raise NotImplementedError

    def resolve_import(self, module: str | None, level: int) -> str | None:
        raise NotImplementedError

    # provided by preflight.analysis.statements
    def disables_grad(self, e: ast.expr, f: Frame) -> bool:
        raise NotImplementedError

    # provided by preflight.analysis.expressions
    def cheap(self, node: ast.expr, f: Frame) -> Val:
        raise NotImplementedError

    def eval(self, e: ast.expr | None, f: Frame, depth: int = 0) -> Val:
        raise NotImplementedError

    def attr_of(self, base: Val, attr: str, f: Frame) -> Val:
        raise NotImplementedError

    def call_value(self, callee: Val, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> Val:
        raise NotImplementedError

    # provided by preflight.analysis.calls
    def mro(self, cname: str) -> Iterator[ClassInfo]:
        raise NotImplementedError

    def has_method(self, cname: str, name: str) -> bool:
        raise NotImplementedError

    def has_attr(self, cinfo: ClassInfo, attr: str) -> bool:
        raise NotImplementedError

    def class_attr(self, cinfo: ClassInfo, attr: str, base: Val | None = None) -> Val:
        raise NotImplementedError

    def call_method(self, cinfo: ClassInfo, name: str, self_val: Val, args: list[Val], kwargs: dict[str, Val],
                    call_depth: int, standalone: bool = False) -> Val:
        raise NotImplementedError

    def call_function(self, info: FuncInfo, args: list[Val], kwargs: dict[str, Val], call_depth: int,
                      standalone: bool = False) -> Val:
        raise NotImplementedError

    # provided by preflight.analysis.loaders
    def dataloader(self, e: ast.Call, args: list[Val], kwargs: dict[str, Val], f: Frame) -> int:
        raise NotImplementedError

    def hint(self, loader: int, hint: str, f: Frame, target: str | None = None) -> None:
        raise NotImplementedError

    def is_iterable_dataset(self, cinfo: ClassInfo, seen: frozenset[str] = frozenset()) -> bool:
        raise NotImplementedError

    def mark_trained(self, loop: ast.For | ast.AsyncFor, it: Val, f: Frame) -> None:
        raise NotImplementedError
