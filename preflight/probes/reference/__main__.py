"""Rewrite the recorded reference evidence: ``python -m preflight.probes.reference``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preflight.probes.data import OUTPUT_KINDS
from preflight.probes.reference import CODES, file_name
from preflight.probes.reference.data import case, output_case
from preflight.probes.run import probe_arrays, probe_output
from preflight.probes.settings import ProbeSettings

HERE = Path(__file__).resolve().parent
SETTINGS = ProbeSettings(cache=False, budget=0.0)  # reference runs take the default steps, whatever the machine


def fresh(code: str, family: str | None = None) -> dict[str, Any]:
    """A fresh run of the probe on ``code``'s (or ``family``'s) reference data."""
    if family and family.startswith("output:"):
        kind = family.partition(":")[2]
        c = output_case(kind)
        ev = probe_output(c["X"], c["y"], kind, task=c["task"], code=code, settings=SETTINGS, data_kind="reference")
    else:
        c = case(code)
        ev = probe_arrays(c["X"], c["y"], c["task"], code, c["family"], c["columns"], c["features"], SETTINGS,
                          data_kind="reference")
    ev["about"] = c["about"]
    ev.pop("cached", None)
    ev.pop("seconds", None)
    return ev


def main() -> None:
    jobs = [(code, None) for code in CODES] + [("PF3xx", f"output:{kind}") for kind in OUTPUT_KINDS]
    for code, family in jobs:
        ev = fresh(code, family)
        path = HERE / file_name(code, family)
        path.write_text(json.dumps(ev, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {ev['verdict']} {ev.get('gap', {}).get('ratio')} ({ev.get('reason', '')})")


if __name__ == "__main__":
    main()
