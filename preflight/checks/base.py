"""The shape every rule has: a code, a name, named options, a documented fix (its fix object), and a check.

A rule's class docstring is its documentation, in the fixed sections
What it does / Why is this bad? / Example / How to fix / Options / References;
``preflight explain CODE`` prints it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

from preflight.checks.fixes import Fix
from preflight.findings import Finding, Location, Severity


@dataclass(frozen=True)
class Option:
    """A named threshold that ``[tool.preflight.<CODE>]`` can set.

    ``low`` and ``high`` bound a numeric option's value, both included (None: no bound); the config
    refuses a value outside them when it loads (``Option("purity", 0.9, "...", low=0.0, high=1.0)``).
    """

    name: str
    default: Any
    help: str
    _: KW_ONLY
    low: float | None = None
    high: float | None = None


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line for `preflight rules`
    severity: ClassVar[Severity] = Severity.WARNING
    subject: ClassVar[type | tuple[type, ...]]  # the subject type(s) this rule reads (TableSubject, CodeSubject, ...)
    fix: ClassVar[str]  # the fix, in words, for messages
    fix_object: ClassVar[Fix | None] = None  # the transform the probe applies to measure the fix (None: no probe)
    options: ClassVar[tuple[Option, ...]] = ()
    # codes whose findings, reported on the same subject, already explain this rule's: the engine then
    # drops this rule's findings (PF402's "cannot overfit" when a dead-ReLU or softmax+CE finding says why)
    superseded_by: ClassVar[tuple[str, ...]] = ()

    def check(self, subject: Any, opts: Mapping[str, Any]) -> Iterable[Finding]:
        raise NotImplementedError

    # --- helpers -------------------------------------------------------------------------

    def fix_for(self, subject: Any) -> Fix | None:
        """The fix object the probe applies on ``subject``: ``fix_object``, unless the rule's fix
        depends on the subject (PF205: the shuffle buffer's share of the table's rows)."""
        return self.fix_object

    def probe_columns(self, subject: Any, flagged: Sequence[str]) -> list[str]:
        """The columns the probe's fix transforms on ``subject``, given the columns this rule's findings
        flagged: those, unless the rule's fix covers more (PF102: every feature it compared)."""
        return list(flagged)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {o.name: o.default for o in cls.options}

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    def finding(self, message: str, *, path: str | None = None, column: str | None = None,
                line: int | None = None, col: int | None = None, fix: str | None = None,
                severity: Severity | None = None, end_line: int | None = None, autofix: Any = None) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            severity=self.severity if severity is None else severity,
            message=message,
            fix=self.fix if fix is None else fix,
            location=Location(path=path, column=column, line=line, col=col, end_line=end_line),
            autofix=autofix,
        )


CODE_RE = re.compile(r"^PF\d{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
