"""When a probe cannot measure, and the warnings it must not print.

A probe that cannot measure never speaks against a finding: when the fixed variant's features are
not finite in float32 (values near 1e308, a fix computed from statistics that overflow), or every
fixed run failed (loss NaN/inf), the evidence is ``skipped`` with that reason, and the finding keeps
its severity (only ``not_reproduced`` on the user's rows lowers it). The numeric warnings such
values raise inside the probe (numpy's overflow and invalid-value ``RuntimeWarning``) are the
probe's business, not the user's: they never reach stderr.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from preflight.probes.data import ProbeData
from preflight.probes.evidence import Measurements

FIXED_FAILED = ("the fixed runs failed too (loss NaN/inf) in every setup and seed, so the probe cannot measure "
                "the fix on these values")


@contextlib.contextmanager
def quiet_numerics() -> Iterator[None]:
    """No numpy floating-point warnings (nor any other warning) from inside a probe."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def unmeasurable(data: ProbeData) -> str | None:
    """Why the fixed variant cannot be trained at all (its features are not finite), or None."""
    if np.isfinite(data.X_train[1]).all() and np.isfinite(data.X_test[1]).all():
        return None
    return ("the fixed variant's features are not finite in float32 (values beyond its range, about 3.4e38, "
            "or statistics that overflow float64), so no training can measure the fix; rescale such a column "
            "first")


def fixed_all_failed(m: Measurements) -> bool:
    """Every fixed model (the second half: variant, then setup, then seed) failed: loss NaN/inf."""
    half = len(m.first_nonfinite) // 2
    fixed_curves = m.curves[half:]
    failed = (m.first_nonfinite[half:] >= 0) | ~np.isfinite(fixed_curves).any(axis=1)
    return bool(half and failed.all())
