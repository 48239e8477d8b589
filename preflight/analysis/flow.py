"""The interpreter assembled: one walk of a module, then every function and method once more on
its own, then each loader's role decided."""

from __future__ import annotations

import ast

from preflight.analysis.calls import Calls
from preflight.analysis.expressions import Expressions
from preflight.analysis.loaders import Loaders
from preflight.analysis.scope import EMPTY_SCOPE, Frame
from preflight.analysis.statements import Statements
from preflight.analysis.values import Val


class ModuleFlow(Statements, Expressions, Calls, Loaders):
    """Walks a module once and records loss pairs (``pairs``) and DataLoader facts (``loaders``)."""

    def run(self) -> ModuleFlow:
        frame = Frame(env={}, globals=EMPTY_SCOPE)
        self.exec_block(self.tree.body, frame)
        self.module_env = frame.env
        # every function and method once more on its own, with unknown arguments
        for info in list(self.funcs.values()):
            self.call_function(info, [], {}, 0, standalone=True)
        for cinfo in list(self.classes.values()):
            for mname in cinfo.methods:
                self.call_method(cinfo, mname, Val(cls=cinfo.name), [], {}, 0, standalone=True)
        for fact in self.loaders:
            fact.role = fact.decide_role()
        return self


def analyse(tree: ast.Module) -> ModuleFlow:
    """Run the flow analysis over a parsed module."""
    return ModuleFlow(tree).run()
