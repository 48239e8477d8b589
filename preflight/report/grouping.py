"""One problem per rule per file: the findings a reader sees as one line.

A data rule reports each column it flags as its own ``Finding`` (JSON and SARIF keep them so, each
with its own numbers). The text and GitHub outputs show them as one ``Group``: the findings of one
rule on one input that point at no line (a column of a table, a live loader), in the order the
report sorted them. A finding with a line (code) is a group of its own, as in ruff. The probe ran
once per rule and input over every flagged column (``probes.run.attach_probes``), so the members of
a group share one evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from preflight.findings import Evidence, Finding, Severity


@dataclass(frozen=True)
class Group:
    """The findings of one rule on one input shown as one problem; ``members[0]`` places it."""

    members: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.members[0]

    @property
    def severity(self) -> Severity:
        return max(f.severity for f in self.members)

    @property
    def columns(self) -> list[str]:
        return [f.location.column for f in self.members if f.location.column]

    @property
    def probe(self) -> Evidence | None:
        return next((f.probe for f in self.members if f.probe is not None), None)

    @property
    def fixes(self) -> list[str]:
        """The members' fixes, each once, in order."""
        return list(dict.fromkeys(f.fix for f in self.members if f.fix))


def group_findings(findings: Iterable[Finding]) -> list[Group]:
    """The findings as groups, in the order of each group's first finding."""
    groups: dict[tuple, list[Finding]] = {}
    for i, f in enumerate(findings):
        loc = f.location
        key: tuple = (loc.path, f.code) if loc.line is None and loc.cell is None else (i,)
        groups.setdefault(key, []).append(f)
    return [Group(tuple(members)) for members in groups.values()]
