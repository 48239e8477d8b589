"""``[tool.preflight]`` configuration: discovery, rule selection by code prefix, rule options.

Found by walking up from the starting directory to the repository root (the first folder holding
``.git``): the first ``preflight.toml`` or ``pyproject.toml`` with a ``[tool.preflight]`` table wins.

```toml
[tool.preflight]
select = ["PF"]            # code prefixes; "ALL" or "PF" is every rule
ignore = ["PF102"]
target = "label"
fail-on = "warning"
[tool.preflight.per-file-ignores]
"data/timeseries/*.csv" = ["PF2"]
[tool.preflight.PF101]
max_abs_mean = 10.0
```
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from preflight.errors import PreflightError

KNOWN_KEYS = {"select", "ignore", "per-file-ignores", "target", "fail-on", "probe", "extend-select"}


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("PF",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target: str | None = None
    target_source: str = "--target"  # how the target was named, for messages
    fail_on: str = "warning"
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    probe: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file it came from
    root: Path | None = None  # its directory: per-file-ignores patterns are relative to it

    def with_overrides(self, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                       target: str | None = None, target_source: str = "--target") -> "Config":
        out = self
        if select:
            out = _replace(out, select=tuple(validate_codes(select, "--select")))
        if ignore:
            out = _replace(out, ignore=out.ignore + tuple(validate_codes(ignore, "--ignore")))
        if target is not None:
            out = _replace(out, target=target, target_source=target_source)
        return out

    def enabled(self, code: str, path: str | None = None) -> bool:
        """flake8's decision: the longest matching prefix wins; on a tie, ignore wins."""
        ignore = list(self.ignore)
        if path is not None:
            ignore += self.ignores_for(path)
        chosen = _longest(code, self.select)
        dropped = _longest(code, ignore)
        return chosen >= 0 and chosen > dropped

    def ignores_for(self, path: str) -> list[str]:
        rel = _relative(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(rel), pattern):
                out.extend(codes)
        return out

    def options_for(self, rule: Any) -> dict[str, Any]:
        opts = rule.defaults()
        given = self.rule_options.get(rule.code, {})
        for key, value in given.items():
            name = key.replace("-", "_")
            if name not in opts:
                known = ", ".join(opts) or "none"
                raise PreflightError(f"{self.source or 'config'}: {rule.code} has no option {key!r} (options: {known})")
            default = opts[name]
            if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
                raise PreflightError(f"{self.source or 'config'}: {rule.code}.{key} must be a number, got {value!r}")
            opts[name] = type(default)(value) if isinstance(default, float) else value
        return opts


def discover(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in ("preflight.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file() and (name == "preflight.toml" or _has_tool_table(candidate)):
                return candidate
        if (folder / ".git").exists():
            return None
    return None


def load(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PreflightError(f"cannot read config ({exc.strerror or exc})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise PreflightError(f"is not valid TOML ({exc})", path) from None
    table = data.get("tool", {}).get("preflight", {}) if path.name == "pyproject.toml" else data
    if path.name == "preflight.toml" and "tool" in data:
        table = data["tool"].get("preflight", table)
    return from_table(table, source=str(path), root=path.parent)


def from_table(table: Mapping[str, Any], source: str = "config", root: Path | None = None) -> Config:
    from preflight.checks import RULES_BY_CODE

    rule_options: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if key.upper() in RULES_BY_CODE and isinstance(value, dict):
            rule_options[key.upper()] = dict(value)
        elif key not in KNOWN_KEYS:
            raise PreflightError(f"{source}: unknown key {key!r} in [tool.preflight] "
                                 f"(known: {', '.join(sorted(KNOWN_KEYS))}, or a rule code like PF101)")
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise PreflightError(f"{source}: per-file-ignores must be a table of pattern = [codes]")
    select = tuple(validate_codes(_list(table.get("select", ["PF"]), "select", source), f"{source}: select"))
    select += tuple(validate_codes(_list(table.get("extend-select", []), "extend-select", source), source))
    fail_on = str(table.get("fail-on", "warning"))
    if fail_on not in ("info", "warning", "error"):
        raise PreflightError(f"{source}: fail-on must be info, warning or error, got {fail_on!r}")
    probe = table.get("probe", {})
    return Config(
        select=select,
        ignore=tuple(validate_codes(_list(table.get("ignore", []), "ignore", source), f"{source}: ignore")),
        per_file_ignores=tuple((pat, tuple(validate_codes(_list(codes, pat, source), f"{source}: {pat}")))
                               for pat, codes in pfi.items()),
        target=table.get("target"),
        target_source=f"target in {source}",
        fail_on=fail_on,
        rule_options=rule_options,
        probe=probe if isinstance(probe, dict) else {},
        source=source,
        root=root,
    )


def validate_codes(codes: Iterable[str], where: str) -> list[str]:
    from preflight.checks import RULES_BY_CODE

    out = []
    for raw in codes:
        for code in str(raw).split(","):
            code = code.strip().upper()
            if not code:
                continue
            if code == "ALL":
                code = "PF"
            if not any(c.startswith(code) for c in RULES_BY_CODE):
                raise PreflightError(f"{where}: unknown rule code {code!r}; `preflight rules` lists them all")
            out.append(code)
    return out


def _longest(code: str, prefixes: Iterable[str]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


def _relative(path: str, root: Path | None) -> str:
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def _list(value: Any, key: str, source: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise PreflightError(f"{source}: {key} must be a list of rule codes")
    return [str(v) for v in value]


def _has_tool_table(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return "preflight" in tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _replace(cfg: Config, **kw: Any) -> Config:
    from dataclasses import replace

    return replace(cfg, **kw)
