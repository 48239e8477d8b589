"""The fixes (``preflight check --fix``) on the real files of ``MANIFEST.tsv`` / ``labels.tsv``.

    REALCODE_FILES=/path/to/files python bench/realcode/fixes.py [--diffs]

For every ``.py`` file and notebook under the folder: the PF203 / PF301-PF305 findings, how many carry a
fix, safe or unsafe (with the reason), whether the fix passed its own re-check, and whether the file still
parses after the safe and after the unsafe fixes. Nothing is written: the fixes are computed in memory.
``--diffs`` prints each safe fix's diff for review by hand.
"""

from __future__ import annotations

import ast
import os
import sys
from collections import Counter
from pathlib import Path

from preflight.config import Config
from preflight.engine import rule_findings
from preflight.fixing.run import fix_file, fix_notebook
from preflight.inputs.notebook import read_notebook
from preflight.inputs.pysource import read_python

CODES = ("PF203", "PF301", "PF302", "PF303", "PF304", "PF305")


def main() -> None:
    root = Path(os.environ.get("REALCODE_FILES", "files"))
    show = "--diffs" in sys.argv
    tally: Counter[str] = Counter()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".ipynb")):
        subject = read_notebook(path) if path.suffix == ".ipynb" else read_python(path)
        found = [f for f in rule_findings(subject, Config()) if f.code in CODES]
        if not found:
            continue
        fixer = fix_notebook if path.suffix == ".ipynb" else fix_file
        safe, unsafe = fixer(path, Config(), False), fixer(path, Config(), True)
        for f in found:
            kind = "none" if f.autofix is None else "safe" if f.autofix.safe else "unsafe"
            tally[f"{f.code} {kind}"] += 1
            tally[kind] += 1
            why = f" ({f.autofix.why_unsafe})" if kind == "unsafe" else ""
            print(f"{path.relative_to(root)}:{f.location.line}: {f.code} fix={kind}{why}")
        for label, r in (("safe", safe), ("unsafe", unsafe)):
            if r.failure:
                tally[f"{label} re-check failed"] += 1
                print(f"  {label}: not applied: {r.failure}")
            elif r.changed and path.suffix == ".py":
                ast.parse(r.after)
                tally[f"{label} files changed"] += 1
        if show and safe.changed:
            print(safe.diff())
    print()
    for key in sorted(tally):
        print(f"{tally[key]:4d}  {key}")


if __name__ == "__main__":
    main()
