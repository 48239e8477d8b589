"""A TOML value as TOML spells it, for an error line (shared by the config and the probe table)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def shown(value: Any) -> str:
    """A value as TOML spells it (``true``, ``"PF1"``, ``nan``), for an error line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "a table" if value else "an empty table"
    return repr(value)
