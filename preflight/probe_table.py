"""``[tool.preflight.probe]``: its schema as plain data, and the typed reading of a TOML value.

``ProbeSettings`` is built from the validated table; ``preflight.config`` validates it at load.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from preflight.errors import PreflightError
from preflight.shown import shown as _shown


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"at least {low:g}"


def _positive(v: Any) -> str | None:
    return None if v > 0 else "above 0"


DEVICE_RE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _device(v: Any) -> str | None:
    return None if DEVICE_RE.match(v) else "one of cpu, cuda, cuda:N (N a GPU index) or mps"


TRAINER_NAMES = ("auto", "numpy", "torch")  # who trains the probe: ``preflight.probes.settings.TRAINERS``


def _trainer(v: Any) -> str | None:
    return None if v in TRAINER_NAMES else "one of " + ", ".join(TRAINER_NAMES)


@dataclass(frozen=True)
class ProbeKey:
    """One ``[tool.preflight.probe]`` key: the ``ProbeSettings`` field it sets, its type, its range."""

    name: str
    kind: type
    check: Callable[[Any], str | None] | None = None  # None if the value is in range, else what it must be


PROBE_KEYS: dict[str, ProbeKey] = {
    "enabled": ProbeKey("enabled", bool),
    "seeds": ProbeKey("seeds", int, _at_least(1)),
    "steps": ProbeKey("steps", int, _at_least(1)),
    "batch-size": ProbeKey("batch_size", int, _at_least(1)),
    "hidden": ProbeKey("hidden", int, _at_least(1)),
    "lr": ProbeKey("lr", float, _positive),
    "max-rows": ProbeKey("max_rows", int, _at_least(1)),
    "budget": ProbeKey("budget", float, lambda v: None if v >= 0 else "0 or more (0: no limit)"),
    "cache": ProbeKey("cache", bool),
    "cache-dir": ProbeKey("cache_dir", str),
    "device": ProbeKey("device", str, _device),
    "trainer": ProbeKey("trainer", str, _trainer),
}

KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string in quotes"}


def typed(value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (an int is a float too), or raise ``TypeError``; NaN and inf are not numbers here."""
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise TypeError("a finite number")
        value = float(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise TypeError(KIND_WORDS.get(kind, kind.__name__))
    return value


def validate_probe_table(table: Any, source: str) -> dict[str, Any]:
    """``[tool.preflight.probe]`` checked key by key: ``ProbeSettings`` field name -> value.

    Keys are spelt with ``-`` or ``_``. Raises ``PreflightError`` (one line naming ``source`` and the key).
    The device is checked by syntax only; whether torch has it here is the probe's to say."""
    where = f"{source}: [tool.preflight.probe]"
    if not isinstance(table, Mapping):
        raise PreflightError(f"{where} must be a table of key = value settings, not {_shown(table)}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        spec = PROBE_KEYS.get(str(key).replace("_", "-"))
        if spec is None:
            raise PreflightError(f"{where} has no key {key!r}; the keys are {', '.join(sorted(PROBE_KEYS))}")
        try:
            out[spec.name] = typed(value, spec.kind)
        except TypeError as exc:
            raise PreflightError(f"{where} {key} must be {exc}, not {_shown(value)}") from None
        problem = spec.check(out[spec.name]) if spec.check is not None else None
        if problem is not None:
            raise PreflightError(f"{where} {key} must be {problem}, not {_shown(value)}")
    return out
