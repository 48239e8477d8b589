"""The reference training probe: a small seeded MLP trained on the user's data as-is and with a
rule's fix applied (the fix object the rule names, ``preflight.checks.fixes``), from the same
initialisation, and the measured gap.

Nothing here imports torch at import time; only training does (``preflight.probes.train``).

    from preflight.probes import ProbeSettings, attach_probes, run_probe, probe_output

The evidence is a ``preflight.findings.Evidence``; ``preflight.report.evidence`` puts it in words.
"""

from __future__ import annotations

from preflight.checks.fixes import OUTPUT_KINDS
from preflight.probes.evidence import CONFIRMED, NOT_REPRODUCED, SKIPPED
from preflight.probes.reference import reference_evidence
from preflight.probes.run import (
    attach_probes,
    fix_of,
    make_hook,
    probe_arrays,
    probe_output,
    run_probe,
    settings_from_config,
)
from preflight.probes.settings import CONFIRM_RATIO, ProbeSettings

__all__ = [
    "CONFIRM_RATIO", "CONFIRMED", "NOT_REPRODUCED", "OUTPUT_KINDS", "SKIPPED",
    "ProbeSettings", "attach_probes", "fix_of", "make_hook", "probe_arrays", "probe_output", "reference_evidence",
    "run_probe", "settings_from_config",
]
