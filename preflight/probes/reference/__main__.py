"""Rewrite the recorded probe evidence: ``python -m preflight.probes.reference``.

* ``rules/<CODE>-<name>/evidence.json``: the probe on the catalog's bad example (from a checkout).
* ``preflight/probes/reference/<family>.json``, for each fix that a rule on code names (its findings
  have no rows): a ``StableLoss``'s run on ``reference.data``'s set (``output-<kind>.json``), any
  other fix's evidence on the bad example of the first data rule with the same fix, the same run
  as that rule's ``evidence.json`` (``order.json``: PF201's), and a ``LoopFix``'s training-loop run
  on its stated reference set (``loop-<kind>.json``, ``preflight.probes.reference.loops``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from preflight.checks.fixes import Fix, StableLoss
from preflight.checks.loop_fixes import LoopFix
from preflight.findings import Evidence
from preflight.probes.reference import file_name
from preflight.probes.reference.data import output_case
from preflight.probes.run import probe_output, run_probe
from preflight.probes.settings import ProbeSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# recorded runs take the default steps, whatever the machine, and the default trainer (NumPy on the CPU); the
# evidence recorded before the NumPy trainer existed was made by torch and says "trainer": "torch"
SETTINGS = ProbeSettings(cache=False, budget=0.0)


def catalog_folders() -> dict[str, Path]:
    """The catalog folders of data rules whose fix the probe measures (a ``bad.csv`` or ``bad_shards/``,
    and a fix object):
    those record ``evidence.json``. A data rule without a fix object (PF108: dropping duplicate rows is
    no transform of the features) records none."""
    from preflight.checks import RULES_BY_CODE

    rules = ROOT / "rules"
    if not rules.is_dir():
        return {}
    folders = {p.name.split("-")[0]: p for p in sorted(rules.iterdir()) if p.is_dir() and bad_example(p) is not None}
    return {code: p for code, p in folders.items() if getattr(RULES_BY_CODE.get(code), "fix_object", None) is not None}


def bad_example(folder: Path) -> Path | None:
    """The catalog's bad example a probe is recorded on: ``bad.csv``, or a folder of shards ``bad_shards/``
    (read as one table, as ``--engine local`` reads it)."""
    return next((p for p in (folder / "bad.csv", folder / "bad_shards") if p.exists()), None)


def catalog_subject(folder: Path) -> Any:
    """The table subject of a catalog folder's bad example, read as the CLI reads it."""
    from preflight.inputs import read_path
    from preflight.inputs.dataset import dataset_subject
    from preflight.inputs.options import ReadOptions

    bad = bad_example(folder)
    assert bad is not None, folder
    return dataset_subject(str(bad), ReadOptions()) if bad.is_dir() else read_path(bad, ReadOptions())


def fresh_catalog(code: str, folder: Path) -> Evidence:
    """A fresh run of rule ``code``'s probe on its catalog bad example, as the CLI runs it."""
    from preflight.checks import RULES_BY_CODE
    from preflight.config import Config

    rule = RULES_BY_CODE[code]
    assert rule.fix_object is not None, code
    bad = bad_example(folder)
    assert bad is not None, folder
    subject = catalog_subject(folder)
    columns = [f.location.column for f in rule.check(subject, Config().options_for(rule)) if f.location.column]
    ev = run_probe(subject, rule, columns, SETTINGS)
    # seconds and cached are not recorded: they differ between runs
    where = f"rules/{folder.name}/{bad.name}" + ("/ (read as one table of shards)" if bad.is_dir() else "")
    return replace(ev, about=f"the catalog's bad example, {where}", seconds=None, cached=None)


def fresh_output(kind: str) -> Evidence:
    c = output_case(kind)
    ev = probe_output(c["X"], c["y"], kind, task=c["task"], code="PF3xx", settings=SETTINGS, data_kind="reference")
    return replace(ev, about=c["about"], seconds=None, cached=None)


def fresh_loop(fix: LoopFix) -> Evidence:
    """A fresh run of a training-loop rule's probe (torch; a few seconds)."""
    from preflight.probes.reference.loops import measure

    return measure(fix.kind)


def packaged_fixes() -> dict[Fix, str | None]:
    """Each fix a rule on code names (a rule without a catalog ``bad.csv``), with the data rule whose
    catalog example stands for it (None for a ``StableLoss`` or a ``LoopFix``: reference data)."""
    from preflight.checks import ALL_RULES

    data_rules = catalog_folders()
    out: dict[Fix, str | None] = {}
    for r in ALL_RULES:
        fix = r.fix_object
        if fix is None or r.code in data_rules or fix in out:
            continue
        out[fix] = None if isinstance(fix, (StableLoss, LoopFix)) else next(
            d.code for d in ALL_RULES if d.code in data_rules and d.fix_object == fix)
    return out


def _write(path: Path, ev: Evidence) -> None:
    path.write_text(json.dumps(ev.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")


def main() -> None:
    catalog = {}
    for code, folder in catalog_folders().items():
        ev = catalog[code] = fresh_catalog(code, folder)
        _write(folder / "evidence.json", ev)
        print(f"{folder.name}: {ev.verdict} ratio {ev.gap.ratio if ev.gap else None} ({ev.reason})")
    for fix, stand_in in packaged_fixes().items():
        if isinstance(fix, StableLoss):
            ev = fresh_output(fix.kind)
        elif isinstance(fix, LoopFix):
            ev = fresh_loop(fix)
        else:
            assert stand_in is not None
            ev = replace(catalog[stand_in], data="reference")
        _write(HERE / file_name(fix), ev)
        print(f"{file_name(fix)}: {ev.verdict} ratio {ev.gap.ratio if ev.gap else None} ({ev.reason})")


if __name__ == "__main__":
    main()
