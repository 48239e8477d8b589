"""Automatic fixes of the code rules' findings (``preflight check --fix`` / ``--diff``).

A code rule that knows its fix attaches a ``CodeFix`` to its finding (``Finding.autofix``): text
edits at ``ast`` positions, and whether the fix is *safe* (the rewritten program computes the same
training objective with the stable formulation, and nothing else reads what was removed) or
*unsafe* (applied only with ``--unsafe-fixes``). ``preflight.fixing.plan`` builds the edits from the
syntax tree; ``preflight.fixing.run`` applies them to files, re-checks the result and writes it.

Edits are spans of the source text replaced by new text, so everything outside them (formatting,
comments, line endings) is kept byte for byte, as ruff's fixes are. No concrete-syntax-tree library
is needed for that: ``ast`` gives every node's exact start and end.
"""

from preflight.fixing.edits import CodeFix, Edit, apply_edits

__all__ = ["CodeFix", "Edit", "apply_edits"]
