"""What one walk of a module accumulates, and the interpreter's parts as one interface.

The interpreter is split by concern into mixins (statements, expressions, calls, loaders) that call
one another; ``FlowState`` holds the shared state and declares the methods each part provides, so
every part type-checks on its own. ``preflight.analysis.flow.ModuleFlow`` joins them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from preflight.analysis.facts import LoaderFact, LossPair
from preflight.analysis.scope import ClassInfo, Frame, FuncInfo
from preflight.analysis.values import Env, Val

MAX_DEPTH = 40  # nesting of one expression followed by the evaluator
MAX_CALL_DEPTH = 4  # functions followed from their call sites
MAX_CONTEXTS = 16  # argument bindings analysed per function


class FlowState:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.classes: dict[str, ClassInfo] = {}
        self.funcs: dict[str, FuncInfo] = {}
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

    # provided by preflight.analysis.statements
    def exec_block(self, body: list[ast.stmt], frame: Frame) -> None:
        raise NotImplementedError

    def exec_stmt(self, s: ast.stmt, f: Frame) -> None:
        raise NotImplementedError

    def assign(self, target: ast.expr, v: Val, f: Frame) -> None:
        raise NotImplementedError

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
