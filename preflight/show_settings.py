"""``preflight check --show-settings``: what a check would run with, one ``key = value`` a line (ruff's
``--show-settings``): the config file used, the resolved rule set, the file choice, the target and the
probe settings. Nothing is read but the config; no torch import."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from preflight.config import Config


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return json.dumps(value)


def settings_text(config: Config, paths: Iterable[str], *, probe: bool, overrides: Mapping[str, Any]) -> str:
    """The resolved settings of ``preflight check PATHS`` with ``config`` and the probe ``overrides``."""
    from preflight.checks import ALL_RULES
    from preflight.probes.settings import ProbeSettings

    enabled = [r for r in ALL_RULES if config.enabled(r.code)]
    lines = [
        f"config file = {_shown(config.source) if config.source else 'none (defaults)'}",
        f"paths = {_shown(list(paths))}",
        f"select = {_shown(config.select)}",
        f"ignore = {_shown(config.ignore)}",
        f"rules = [  # {len(enabled)} of {len(ALL_RULES)} rules",
        *(f"    {r.code} {r.name}," for r in enabled),
        "]",
    ]
    lines += [f"per-file-ignores {_shown(pattern)} = {_shown(codes)}" for pattern, codes in config.per_file_ignores]
    lines += [
        f"exclude = {_shown(config.exclude)}",
        f"extend-exclude = {_shown(config.extend_exclude)}",
        # --exclude empties the two above and lands here, as --extend-exclude does: relative to the current folder
        f"command-line excludes = {_shown(config.cli_exclude)}",
        f"respect-gitignore = {_shown(config.respect_gitignore)}",
        f"force-exclude = {_shown(config.force_exclude)}",
        f"target = {_shown(config.target) if config.target else 'inferred from the column names'}",
        f"task = {_shown(config.task) if config.task else 'inferred from the target'}",
        f"fail-on = {_shown(config.fail_on)}",
    ]
    for code, options in sorted(config.rule_options.items()):
        lines += [f"{code}.{name} = {_shown(value)}" for name, value in options.items()]
    values = {**config.probe, **{k: v for k, v in overrides.items() if v is not None}}
    settings = ProbeSettings(**values)
    on = probe and settings.enabled
    lines.append(f"probe = {'on' if on else 'off'}" + ("" if probe else "  # --no-probe"))
    if on:
        lines += [f"probe.{f.name.replace('_', '-')} = {_shown(getattr(settings, f.name))}"
                  for f in fields(settings) if f.name not in ("enabled", "extra") and getattr(settings, f.name)
                  is not None]
    return "\n".join(lines)
