"""Rewrite the recorded probe evidence: ``python -m preflight.probes.reference``.

* ``rules/<CODE>-<name>/evidence.json``: the probe on the catalog's bad example (from a checkout).
* ``preflight/probes/reference/<CODE>.json``: the same evidence as package data, for findings in
  code, which have no rows of their own.
* ``preflight/probes/reference/output-<kind>.json``: the PF3xx probes on ``reference.data``'s sets.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from preflight.findings import Evidence
from preflight.probes.data import OUTPUT_KINDS
from preflight.probes.reference import file_name
from preflight.probes.reference.data import output_case
from preflight.probes.run import probe_output, run_probe
from preflight.probes.settings import ProbeSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SETTINGS = ProbeSettings(cache=False, budget=0.0)  # recorded runs take the default steps, whatever the machine


def catalog_folders() -> dict[str, Path]:
    rules = ROOT / "rules"
    return {p.name.split("-")[0]: p for p in sorted(rules.iterdir()) if p.is_dir() and (p / "bad.csv").exists()} \
        if rules.is_dir() else {}


def fresh_catalog(code: str, folder: Path) -> Evidence:
    """A fresh run of rule ``code``'s probe on its catalog bad example, as the CLI runs it."""
    from preflight.checks import RULES_BY_CODE
    from preflight.config import Config
    from preflight.inputs import read_path
    from preflight.inputs.options import ReadOptions
    from preflight.probes.run import family_for

    rule = RULES_BY_CODE[code]
    subject = read_path(folder / "bad.csv", ReadOptions())
    columns = [f.location.column for f in rule.check(subject, Config().options_for(rule)) if f.location.column]
    ev = run_probe(subject, code, columns, SETTINGS, family_for(code, rule))
    # seconds and cached are not recorded: they differ between runs
    return replace(ev, about=f"the catalog's bad example, rules/{folder.name}/bad.csv", seconds=None, cached=None)


def fresh_output(kind: str, code: str = "PF3xx") -> Evidence:
    c = output_case(kind)
    ev = probe_output(c["X"], c["y"], kind, task=c["task"], code=code, settings=SETTINGS, data_kind="reference")
    return replace(ev, about=c["about"], seconds=None, cached=None)


def _write(path: Path, ev: Evidence) -> None:
    path.write_text(json.dumps(ev.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")


def main() -> None:
    for code, folder in catalog_folders().items():
        ev = fresh_catalog(code, folder)
        _write(folder / "evidence.json", ev)
        _write(HERE / file_name(code), replace(ev, data="reference"))
        print(f"{folder.name}: {ev.verdict} ratio {ev.gap.ratio if ev.gap else None} ({ev.reason})")
    for kind in OUTPUT_KINDS:
        ev = fresh_output(kind)
        _write(HERE / file_name("PF3xx", f"output:{kind}"), ev)
        print(f"output {kind}: {ev.verdict} ratio {ev.gap.ratio if ev.gap else None} ({ev.reason})")


if __name__ == "__main__":
    main()
