"""``[tool.preflight]`` configuration: discovery, rule selection by code prefix, rule options.

Found by walking up from the starting directory to the repository root (the first folder holding
``.git``): the first ``preflight.toml`` or ``pyproject.toml`` with a ``[tool.preflight]`` table wins.

```toml
[tool.preflight]
select = ["PF"]            # code prefixes or rule names; "ALL" or "PF" is every rule
ignore = ["PF102"]
target = "label"
fail-on = "warning"
extend-exclude = ["lightning_logs/"]   # exclude = [...] replaces the defaults; gitignore syntax
respect-gitignore = true
[tool.preflight.per-file-ignores]
"data/timeseries/*.csv" = ["PF2"]
[tool.preflight.PF101]
max_abs_mean = 10.0
[tool.preflight.probe]
budget = 2.0
```

All of it is validated when it loads (``from_table``, and ``Config.__post_init__`` for a Config made
directly): every key, type and range, the probe table against ``PROBE_KEYS`` and each rule table
against its rule's options. A bad value is one ``PreflightError`` naming the file and the key, raised
before any input is read; nothing downstream re-validates per input. A config file met by discovery
that is not valid TOML is an error, not skipped. Rule defaults come from ``preflight.checks``
(imported lazily, at load); only whether torch has the probe's device is left to the probe.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.errors import PreflightError
from preflight.inputs.ignore import DEFAULT_EXCLUDE
from preflight.probe_table import KIND_WORDS, PROBE_KEYS, ProbeKey, typed, validate_probe_table

__all__ = ["KIND_WORDS", "PROBE_KEYS", "ProbeKey", "typed", "validate_probe_table"]
from preflight.shown import shown as _shown
from preflight.urls import is_remote

if TYPE_CHECKING:
    from preflight.checks.base import Option

KNOWN_KEYS = {"select", "ignore", "per-file-ignores", "target", "task", "fail-on", "probe", "extend-select",
              "exclude", "extend-exclude", "respect-gitignore", "force-exclude"}
TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("PF",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target: str | None = None
    target_source: str = "--target"  # how the target was named, for messages
    task: str | None = None  # binary / multiclass / regression; None: inferred from the target
    task_source: str = "--task"
    fail_on: str = "warning"
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    probe: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file it came from
    root: Path | None = None  # its directory: per-file-ignores and exclude patterns are relative to it
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE  # gitignore-style patterns a folder's walk passes over
    extend_exclude: tuple[str, ...] = ()
    cli_exclude: tuple[str, ...] = ()  # --exclude / --extend-exclude: relative to the current directory
    respect_gitignore: bool = True
    force_exclude: bool = False  # the exclude patterns apply to paths named on the command line too (pre-commit)
    stdin_filename: str | None = None  # --stdin-filename: the type and name of standard input ("-")
    report_unused_ignores: bool = False  # --report-unused-ignores: a note per suppression that silenced nothing

    def __post_init__(self) -> None:
        """``probe`` and ``rule_options`` are validated when a Config is made, however it is made (a
        ``Config(probe={"cache-dir": ...})`` too): field names and typed values from then on."""
        source = self.source or "config"
        object.__setattr__(self, "probe", validate_probe_table(self.probe, source))
        object.__setattr__(self, "rule_options", _validated_rule_options(self.rule_options, source))
        object.__setattr__(self, "task", _task(self.task, f"{source}: task"))

    def with_overrides(self, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                       target: str | None = None, target_source: str = "--target",
                       task: str | None = None, task_source: str = "--task", codes_source: str = "--") -> Config:
        """This config with the command line's (or the library call's: ``codes_source="="``, naming
        ``select=``) options over it. As ruff: a given ``select`` is the new basis and the configured
        ``ignore`` no longer applies (``--select PF102`` keeps PF102 under ``ignore = ["PF1"]``); a given
        ``ignore`` adds to the configured one."""
        out = self
        if select:
            out = _replace(out, select=tuple(validate_codes(select, _named("select", codes_source))), ignore=())
        if ignore:
            out = _replace(out, ignore=out.ignore + tuple(validate_codes(ignore, _named("ignore", codes_source))))
        if target is not None:
            out = _replace(out, target=target, target_source=target_source)
        if task is not None:
            out = _replace(out, task=_task(task, task_source), task_source=task_source)
        return out

    def with_files(self, *, exclude: Iterable[str] | None = None, extend_exclude: Iterable[str] = (),
                   respect_gitignore: bool | None = None, force_exclude: bool | None = None,
                   stdin_filename: str | None = None,
                   report_unused_ignores: bool = False) -> Config:
        """The command line's file choice over this config: ``--exclude`` replaces every exclude pattern
        (the defaults and the config's; none given: no change), ``--extend-exclude`` adds; both relative to
        the current directory."""
        out = self
        if exclude:
            out = _replace(out, exclude=(), extend_exclude=(), cli_exclude=tuple(exclude))
        if extend_exclude:
            out = _replace(out, cli_exclude=out.cli_exclude + tuple(extend_exclude))
        if respect_gitignore is not None:
            out = _replace(out, respect_gitignore=respect_gitignore)
        if force_exclude is not None:
            out = _replace(out, force_exclude=force_exclude)
        if stdin_filename is not None:
            out = _replace(out, stdin_filename=stdin_filename)
        if report_unused_ignores:
            out = _replace(out, report_unused_ignores=True)
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
        """The rule's defaults, then its ``[tool.preflight.<CODE>]`` values (validated at load)."""
        return {**rule.defaults(), **self.rule_options.get(rule.code, {})}


def discover(start: Path | None = None) -> Path | None:
    """The config file that applies from ``start`` (default: the current directory), or None.

    A ``pyproject.toml`` or ``preflight.toml`` met on the way that is not valid TOML is an error
    (``PreflightError`` naming the file), not a file silently passed over."""
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
    data = _read_toml(path)
    if path.name == "pyproject.toml" or "tool" in data:
        tool = data.get("tool", {})
        if not isinstance(tool, Mapping):
            raise PreflightError(f"[tool] must be a table, not {_shown(tool)}", path)
        table = tool.get("preflight", {} if path.name == "pyproject.toml" else data)
    else:
        table = data
    return from_table(table, source=str(path), root=path.parent)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PreflightError(f"cannot read config ({exc.strerror or exc})", path) from None
    except UnicodeDecodeError:
        raise PreflightError("is not valid TOML (it is not UTF-8 text); fix or remove it", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise PreflightError(f"is not valid TOML ({exc}); fix it or remove it", path) from None


def from_table(table: Mapping[str, Any], source: str = "config", root: Path | None = None) -> Config:
    """A ``Config`` from a ``[tool.preflight]`` table, every key, type and range checked here, once:
    a bad value raises ``PreflightError``, one line naming ``source`` and the key."""
    if not isinstance(table, Mapping):
        raise PreflightError(f"{source}: [tool.preflight] must be a table, not {_shown(table)}")
    rule_options = _rule_tables(table, source)
    select = tuple(validate_codes(_list(table.get("select", ["PF"]), "select", source), f"{source}: select"))
    select += tuple(validate_codes(_list(table.get("extend-select", []), "extend-select", source),
                                   f"{source}: extend-select"))
    return Config(
        select=select,
        ignore=tuple(validate_codes(_list(table.get("ignore", []), "ignore", source), f"{source}: ignore")),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), source),
        target=_target(table.get("target"), source),
        target_source=f"target in {source}",
        task=_task(table.get("task"), f"{source}: [tool.preflight] task"),
        task_source=f"task in {source}",
        fail_on=_fail_on(table.get("fail-on", "warning"), source),
        rule_options=rule_options,
        probe=validate_probe_table(table.get("probe", {}), source),
        source=source,
        root=root,
        exclude=tuple(_patterns(table.get("exclude", DEFAULT_EXCLUDE), "exclude", source)),
        extend_exclude=tuple(_patterns(table.get("extend-exclude", []), "extend-exclude", source)),
        respect_gitignore=_flag(table.get("respect-gitignore", True), "respect-gitignore", source),
        force_exclude=_flag(table.get("force-exclude", False), "force-exclude", source),
    )


def _patterns(value: Any, key: str, source: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PreflightError(f'{source}: [tool.preflight] {key} must be a list of path patterns in quotes, '
                             f'like {key} = ["lightning_logs/", "data/raw/*.csv"]; not {_shown(value)}')
    return list(value)


def _flag(value: Any, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise PreflightError(f"{source}: [tool.preflight] {key} must be true or false, not {_shown(value)}")
    return value


def _rule_tables(table: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """``[tool.preflight.PF101]`` and the like, each validated against its rule's options."""
    from preflight.checks import RULES_BY_CODE

    out: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        rule = RULES_BY_CODE.get(str(key).upper())
        if rule is not None:
            out[rule.code] = validate_rule_options(rule, value, source)
        elif key not in KNOWN_KEYS:
            raise PreflightError(f"{source}: unknown key {key!r} in [tool.preflight] "
                                 f"(known: {', '.join(sorted(KNOWN_KEYS))}, or a rule code like PF101)")
    return out


def _validated_rule_options(tables: Any, source: str) -> dict[str, dict[str, Any]]:
    from preflight.checks import RULES_BY_CODE

    out: dict[str, dict[str, Any]] = {}
    for code, given in dict(tables).items():
        rule = RULES_BY_CODE.get(str(code).upper())
        if rule is None:
            raise PreflightError(f"{source}: rule options for {code!r}, which is no rule; `preflight rules` lists them")
        out[rule.code] = validate_rule_options(rule, given, source)
    return out


def validate_rule_options(rule: Any, given: Any, source: str) -> dict[str, Any]:
    """``[tool.preflight.<CODE>]``: option name (``_`` spelling) -> value, typed as the rule's default.

    A number must be finite and lie within the option's bounds (``Option.low`` / ``Option.high``:
    a share or probability in [0, 1], most thresholds 0 or more); true/false is not a number."""
    where = f"{source}: [tool.preflight.{rule.code}]"
    if not isinstance(given, Mapping):
        raise PreflightError(f"{where} must be a table of option = value, not {_shown(given)}")
    defaults = rule.defaults()
    options = {o.name: o for o in rule.options}
    out: dict[str, Any] = {}
    for key, value in given.items():
        name = str(key).replace("-", "_")
        if name not in defaults:
            known = ", ".join(defaults) or "none"
            raise PreflightError(f"{source}: {rule.code} has no option {key!r} in [tool.preflight.{rule.code}] "
                                 f"(options: {known})")
        default = defaults[name]
        try:
            out[name] = typed(value, float if isinstance(default, float) else type(default))
        except TypeError as exc:
            raise PreflightError(f"{where} {key} must be {exc}, not {_shown(value)}") from None
        problem = _option_range(options[name], out[name])
        if problem is not None:
            raise PreflightError(f"{where} {key} must be {problem}, not {_shown(value)}")
    return out


def _option_range(option: Option, value: Any) -> str | None:
    """Why ``value`` lies outside ``option``'s bounds (``Option.low`` / ``Option.high``, both included),
    as the end of "must be ..."; None when it lies inside them or is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low, high = option.low, option.high
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"{low:g} or more"
    return f"{high:g} or less"


def _named(option: str, style: str) -> str:
    return f"--{option}" if style == "--" else f"{option}="


def _per_file_ignores(pfi: Any, source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(pfi, Mapping):
        raise PreflightError(f"{source}: [tool.preflight.per-file-ignores] must be a table of "
                             f'"pattern" = ["codes"], not {_shown(pfi)}')
    table = "[tool.preflight.per-file-ignores]"
    return tuple((pat, tuple(validate_codes(_list(codes, json.dumps(pat), source, table),
                                            f"{source}: {table} {json.dumps(pat)}")))
                 for pat, codes in pfi.items())


def _target(target: Any, source: str) -> str | None:
    if target is not None and (not isinstance(target, str) or not target.strip()):
        raise PreflightError(f'{source}: [tool.preflight] target must be a column name in quotes, like '
                             f'target = "label"; not {_shown(target)}')
    return target


def _task(task: Any, where: str) -> str | None:
    if task is None:
        return None
    if not isinstance(task, str) or task.strip().lower() not in TASKS:
        raise PreflightError(f"{where} must be one of {', '.join(TASKS)}; not {_shown(task)}")
    return task.strip().lower()


def _fail_on(fail_on: Any, source: str) -> str:
    if fail_on not in ("info", "warning", "error"):
        raise PreflightError(f'{source}: [tool.preflight] fail-on must be "info", "warning" or "error", '
                             f"not {_shown(fail_on)}")
    return str(fail_on)


def validate_codes(codes: Iterable[str], where: str) -> list[str]:
    """Rule codes or prefixes (``PF1``, ``ALL``) or rule names (``unnormalized-feature``, as a code)."""
    from preflight.checks import RULES_BY_CODE

    out = []
    for raw in codes:
        for code in str(raw).split(","):
            code = code.strip()
            if not code:
                continue
            code = rule_code(code) or code.upper()
            if code == "ALL":
                code = "PF"
            if not any(c.startswith(code) for c in RULES_BY_CODE):
                raise PreflightError(f"{where}: unknown rule code {code!r}; `preflight rules` lists them all")
            out.append(code)
    return out


def rule_code(name: str) -> str | None:
    """The code of the rule called ``name`` (``unnormalized-feature`` -> ``PF101``), else None."""
    from preflight.checks import ALL_RULES

    wanted = name.strip().lower()
    return next((r.code for r in ALL_RULES if r.name == wanted), None)


def _longest(code: str, prefixes: Iterable[str]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


def _relative(path: str, root: Path | None) -> str:
    if is_remote(path):  # s3://bucket/key: matched as written (Path would fold its //)
        return path
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def _list(value: Any, key: str, source: str, table: str = "[tool.preflight]") -> list[str]:
    """A list of rule codes; a bare string is an error (``select = "PF1"`` would read as P, F, 1)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        example = json.dumps([value] if isinstance(value, str) else ["PF1"])
        raise PreflightError(f"{source}: {table} {key} must be a list of rule codes in quotes, "
                             f"like {key} = {example}; not {_shown(value)}")
    return list(value)


def _has_tool_table(path: Path) -> bool:
    tool = _read_toml(path).get("tool", {})
    return isinstance(tool, Mapping) and "preflight" in tool


def _replace(cfg: Config, **kw: Any) -> Config:
    from dataclasses import replace

    return replace(cfg, **kw)
