"""The interpreter assembled: one walk of a module, then every function and method once more on
its own, then each loader's role decided."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from preflight.analysis.calls import Calls
from preflight.analysis.expressions import Expressions
from preflight.analysis.loaders import Loaders
from preflight.analysis.parsing import gc_paused
from preflight.analysis.project import MODULE_REF, MODULES, resolve_module, submodule
from preflight.analysis.scope import EMPTY_SCOPE, Frame
from preflight.analysis.statements import Statements
from preflight.analysis.values import UNKNOWN, Val


class ModuleFlow(Statements, Expressions, Calls, Loaders):
    """Walks a module once and records loss pairs (``pairs``) and DataLoader facts (``loaders``)."""

    complete = False

    def run(self, complete: bool = True) -> ModuleFlow:
        """Walk the module's top level; ``complete``: then every function and method on its own (a
        module only imported needs its top level alone: what it binds)."""
        frame = Frame(env={}, globals=EMPTY_SCOPE)
        self.exec_block(self.tree.body, frame)
        self.module_env = frame.env
        return self.finish() if complete else self

    def finish(self) -> ModuleFlow:
        if self.complete:
            return self
        self.complete = True
        # every function and method once more on its own, with unknown arguments; a function or
        # class defined inside one (an ignite ``step(engine, batch)`` closure in ``main``) is only
        # registered while its parent runs, so repeat until no new one appears (each runs once)
        done: set[str] = set()
        while True:
            funcs = [info for key, info in self.funcs.items() if key not in done]
            classes = [c for key, c in self.classes.items() if key not in done]
            if not funcs and not classes:
                break
            for info in funcs:
                done.add(info.name)
                self.call_function(info, [], {}, 0, standalone=True)
            for cinfo in classes:
                done.add(cinfo.name)
                for mname in cinfo.methods:
                    self.call_method(cinfo, mname, Val(cls=cinfo.name), [], {}, 0, standalone=True)
        for fact in self.loaders:
            fact.role = fact.decide_role()
        return self

    def resolve_import(self, module: str | None, level: int) -> str | None:
        return resolve_module(self.path, module, level)

    def resolve_ref(self, v: Val) -> Val:
        """A name imported from a project module (``Val(qual="§<file>\0<name>")``), looked up when it
        is first used: a module only imported costs nothing."""
        if v.qual is None or not v.qual.startswith(MODULE_REF) or "\0" not in v.qual:
            return v
        ref, _, attr = v.qual[len(MODULE_REF):].partition("\0")
        return self.module_attr(ref, attr)

    def module_attr(self, ref: str, attr: str) -> Val:
        """A name of a project module (``ref``: its file, or a namespace folder): what its code binds
        to ``attr``, else its submodule ``attr``; unknown otherwise."""
        if os.path.isfile(ref):
            dep = MODULES.get(ref, lambda tree: ModuleFlow(tree, Path(ref)).run(complete=False))
            if dep is not None:
                found = dep.resolve_ref(dep.module_env[attr]) if attr in dep.module_env else None
                self.deps[dep.tag] = dep
                self.deps.update(dep.deps)  # after the lookup, which may import further modules
                if found is not None:
                    return found
            if not ref.endswith("__init__.py"):
                return UNKNOWN
        sub = submodule(ref, attr)
        return Val(qual=MODULE_REF + sub) if sub is not None else UNKNOWN


@gc_paused
def analyse(tree: ast.Module, path: str | os.PathLike[str] | None = None) -> ModuleFlow:
    """Run the flow analysis over a parsed module; with its ``path`` its imports of the project's
    modules are followed and the walk is kept for other files that import it."""
    if path is not None:
        full = os.path.abspath(path)
        flow = MODULES.get(full, lambda t: ModuleFlow(t, Path(full)).run(), tree)
        if isinstance(flow, ModuleFlow):
            return flow.finish()
    return ModuleFlow(tree).run()
