"""The ``preflight`` command: check, rules, explain, probe.

Exit codes, as ruff: 0 nothing at or above ``--fail-on``; 1 findings; 2 usage, config or input error.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from preflight import __version__
from preflight.errors import PreflightError
from preflight.printable import printable, printable_text

FORMATS = ("text", "json", "sarif", "github", "html")
PROBE_FORMATS = ("text", "json")  # a probe's evidence is one line or its JSON; no findings to annotate


def _codes(values: tuple[str, ...]) -> list[str]:
    return [c for v in values for c in v.split(",") if c.strip()]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="preflight")
def cli() -> None:
    """Find the data and setup mistakes that make PyTorch training fail silently."""


# ``check``'s arguments and options, in the order ``--help`` lists them: add one here and read it from
# ``opts`` in ``check`` (the command takes them as keyword arguments).
CHECK_OPTIONS = [
    click.argument("paths", nargs=-1, default=(".",), type=click.Path(path_type=str, readable=False, allow_dash=True)),
    click.option("--target", metavar="COLUMN", help="The label/target column (default: inferred from its name)."),
    click.option("--task", type=click.Choice(["binary", "multiclass", "regression"]), default=None,
                 help="The learning task (default: inferred from the target's values)."),
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                 help="Output format."),
    click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write the report to this file instead of stdout."),
    click.option("--select", multiple=True, metavar="CODES",
                 help="Only these rule codes or prefixes (comma-separated)."),
    click.option("--ignore", multiple=True, metavar="CODES",
                 help="Skip these rule codes or prefixes (comma-separated)."),
    click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default=None,
                 help="Exit 1 when a finding is at this severity or above [default: warning]."),
    click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found (input errors still exit 2)."),
    click.option("--no-probe", is_flag=True, help="Do not train the reference probe (fast)."),
    click.option("--probe-budget", type=click.FloatRange(min=0.0), default=None, metavar="SECONDS",
                 help="Training time per probe; steps are cut to fit [default: 3]."),
    click.option("--no-cache", is_flag=True, help="Retrain probes instead of reusing cached results."),
    click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                 help="Read this config file instead of discovering [tool.preflight]."),
    click.option("-v", "--verbose", is_flag=True,
                 help="Text: also each file's summary (rows, target), each column's numbers, the fixes and "
                      "the probe's full evidence."),
    click.option("--show-fixes", is_flag=True, help="Text: print each problem's fix."),
    click.option("--show-probe", is_flag=True, help="Text: print the probe's full evidence, not only its verdict."),
    click.option("--statistics", is_flag=True, help="Text: print how many problems each rule found, not the problems."),
    click.option("-q", "--quiet", is_flag=True,
                 help="Print the problems' lines only: no notes, probe lines, tally or progress."),
    click.option("--exclude", multiple=True, metavar="PATTERNS",
                 help="Paths a folder's walk passes over (gitignore syntax, comma-separated); replaces the "
                      "defaults and the config's exclude. A file named on the command line is checked all the same."),
    click.option("--extend-exclude", multiple=True, metavar="PATTERNS",
                 help="Paths to pass over as well as the default and configured excludes."),
    click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                 help="Pass over the files .gitignore files ignore when walking a folder [default: respect]."),
    click.option("--force-exclude/--no-force-exclude", default=None,
                 help="Apply the exclude patterns to the paths named on the command line too (for pre-commit)."),
    click.option("--stdin-filename", metavar="NAME",
                 help="The type and name of standard input given as '-' (data.csv, train.py, x.csv.gz) "
                      "[default: CSV, named '-']."),
    click.option("--report-unused-ignores", is_flag=True,
                 help="Add a note for each suppression comment that silenced nothing."),
    click.option("--fix", is_flag=True,
                 help="Apply the safe fixes of the code findings to .py files and notebooks in place (never to "
                      "data files), then report what is left."),
    click.option("--diff", is_flag=True,
                 help="Print the fixes as a unified diff and change nothing; exit 1 when there is something to fix."),
    click.option("--unsafe-fixes", is_flag=True,
                 help="With --fix or --diff, apply the unsafe fixes too (they change what other code reads, "
                      "such as a model's predictions)."),
    click.option("--engine", type=click.Choice(["local", "spark", "ray"]), help="Check each path (a folder or "
                 "prefix of shards) as one table, measured here (local), on Spark or Ray Data; without it, per file."),
    click.option("--master", "--address", "address", metavar="URL",
                 help="--engine spark: the master [local[*]]; ray: the cluster [a local Ray]."),
    click.option("--show-settings", is_flag=True,
                 help="Print the resolved settings (config file, rules, file choice, target, probe) and exit."),
]


def _with(options: list[Any]) -> Any:
    """Apply click decorators in the order listed (the order ``--help`` shows them)."""
    def decorate(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@cli.command()
@_with(CHECK_OPTIONS)
def check(paths: tuple[str, ...], **opts: Any) -> None:
    """Check data files (CSV, Parquet, .npy/.npz, .csv.gz), training scripts (.py, read without running
    them) and directories of them; the current directory when no path is given, standard input for '-'.

    --select replaces the configured select and ignore (as ruff: the command line wins); --ignore adds
    to the configured ignore. Codes, prefixes (PF1) and rule names (unnormalized-feature) are accepted."""
    from preflight import config as cfg
    from preflight.engine import RunOptions, check_paths
    from preflight.findings import Severity

    config_path, output, no_probe = opts["config_path"], opts["output"], opts["no_probe"]
    if config_path is not None and not config_path.is_file():
        raise PreflightError("no such config file", config_path)
    if output is not None:
        refuse_input_as_output(output, paths)
    config = cfg.load(config_path if config_path is not None else cfg.discover())
    config = config.with_overrides(select=_codes(opts["select"]), ignore=_codes(opts["ignore"]),
                                   target=opts["target"], task=opts["task"])
    config = config.with_files(exclude=_codes(opts["exclude"]), extend_exclude=_codes(opts["extend_exclude"]),
                               respect_gitignore=opts["respect_gitignore"], force_exclude=opts["force_exclude"],
                               stdin_filename=opts["stdin_filename"],
                               report_unused_ignores=opts["report_unused_ignores"])
    if opts["fail_on"]:
        config = replace(config, fail_on=opts["fail_on"])
    if opts["show_settings"]:
        return _show_settings(config, paths, no_probe, opts["probe_budget"], opts["no_cache"])
    if opts["diff"]:
        return _diff(paths, config, opts["unsafe_fixes"])
    if opts["fix"]:
        _fix(paths, config, opts["unsafe_fixes"])
    hook = None
    if not no_probe:
        from preflight.probes import make_hook, settings_from_config

        overrides = {"budget": opts["probe_budget"], "cache": False if opts["no_cache"] else None}
        settings_from_config(config, overrides=overrides)  # a device torch lacks: one line, before any input
        hook = make_hook(**overrides)
    from preflight.report.progress import Progress

    with Progress.for_stderr(quiet=opts["quiet"]) as bar:
        options = RunOptions(probe=not no_probe, probe_hook=hook, on_probe=bar.probing)
        if opts["engine"] is not None:
            from preflight.integrations.engines import engine_report
            report = engine_report(paths or (".",), opts["engine"], opts["address"], config, options)
        else:
            report = check_paths(list(paths), config, options, on_file=bar.file_done, on_read=bar.reading,
                                 on_rows=bar.rows_read)
    _print_report(report, opts)
    level = Severity.parse(config.fail_on)
    sys.exit(0 if opts["exit_zero"] or not report.at_or_above(level) else 1)


def _diff(paths: tuple[str, ...], config: Any, unsafe: bool) -> None:
    """``--diff``: each file's fixes as a unified diff; nothing is written. Exit 1 when there is a fix."""
    from preflight.fixing.run import fix_paths

    run = fix_paths(paths, config, write=False, unsafe=unsafe)
    for f in run.files:
        if f.changed:
            click.echo(printable_text(f.diff()), nl=False)
        elif f.failure:
            click.echo(f"warning: {printable(f.display)}: not fixed: {f.failure}", err=True)
    n = sum(1 for f in run.files if f.changed)
    hidden = f" ({run.hidden} more with --unsafe-fixes)" if run.hidden else ""
    click.echo(f"Would fix {run.fixed} problem{'s' * (run.fixed != 1)} in {n} file{'s' * (n != 1)}{hidden}.",
               err=True)
    for error in run.errors:
        click.echo(f"error: {printable(error)}", err=True)
    sys.exit(2 if run.errors else 1 if n else 0)


def _fix(paths: tuple[str, ...], config: Any, unsafe: bool) -> None:
    """``--fix``: write each file's checked fixes; the check that follows reports what is left."""
    from preflight.fixing.run import fix_paths

    run = fix_paths(paths, config, write=True, unsafe=unsafe)
    for f in run.files:
        if f.failure:
            click.echo(f"warning: {printable(f.display)}: not fixed: {f.failure}", err=True)
    n = sum(1 for f in run.files if f.changed)
    hidden = f" ({run.hidden} more with --unsafe-fixes)" if run.hidden else ""
    click.echo(f"Fixed {run.fixed} problem{'s' * (run.fixed != 1)} in {n} file{'s' * (n != 1)}{hidden}.", err=True)


def _print_report(report: Any, opts: dict[str, Any]) -> None:
    """Write the report (to ``--output`` or stdout) and the input errors (stderr); exit 2 on any error."""
    from preflight.report.progress import use_color

    fmt, output = opts["fmt"], opts["output"]
    nothing_read = report.errors and not report.summary.get("files")
    color = fmt == "text" and output is None and use_color(sys.stdout)
    text = "" if nothing_read and fmt == "text" else render(
        report, fmt, color=color, quiet=opts["quiet"], verbose=opts["verbose"], show_fixes=opts["show_fixes"],
        show_probe=opts["show_probe"], statistics=opts["statistics"])
    if fmt != "github" and not color:  # github's lines start with "::"; coloured text is made printable as built
        text = printable_text(text)
    if output is not None:
        _write(output, text)
    elif text:
        click.echo(text, color=color)
    for error in report.errors:
        click.echo(f"error: {printable(error)}", err=True)
    if report.errors:
        sys.exit(2)


def _show_settings(config: Any, paths: tuple[str, ...], no_probe: bool, probe_budget: float | None,
                   no_cache: bool) -> None:
    """``--show-settings``: the resolved settings, printed; nothing is read."""
    from preflight.show_settings import settings_text

    overrides = {"budget": probe_budget, "cache": False if no_cache else None}
    click.echo(settings_text(config, paths, probe=not no_probe, overrides=overrides))


def render(report: Any, fmt: str, *, quiet: bool = False, verbose: bool = False, show_fixes: bool = False,
           show_probe: bool = False, statistics: bool = False, color: bool = False) -> str:
    if fmt == "json":
        return report.to_json()
    if fmt == "sarif":
        from preflight.checks import ALL_RULES
        from preflight.report.sarif import render_sarif

        return render_sarif(report, ALL_RULES)
    if fmt == "github":
        from preflight.report.github import render_github

        return render_github(report, quiet=quiet)
    if fmt == "html":
        from preflight.report.html import render_html

        return render_html(report)
    from preflight.report.text import TextOptions, render_text

    return render_text(report, TextOptions(verbose=verbose, show_fixes=show_fixes, show_probe=show_probe,
                                           statistics=statistics, quiet=quiet, color=color))


@cli.command("rules")
def rules_cmd() -> None:
    """List every rule: code, name, default severity, what it finds."""
    from preflight.checks import ALL_RULES

    width = max(len(r.name) for r in ALL_RULES)
    for r in ALL_RULES:
        click.echo(f"{r.code}  {r.name:<{width}}  {r.severity!s:<7}  {r.summary}")


@cli.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation."""
    from preflight.checks import ALL_RULES, RULES_BY_CODE

    rule = RULES_BY_CODE.get(code.strip().upper())
    if rule is None:
        by_name = {r.name: r for r in ALL_RULES}
        rule = by_name.get(code.strip().lower())
    if rule is None:
        raise PreflightError(f"unknown rule {code!r}; `preflight rules` lists them all")
    click.echo(f"{rule.code} {rule.name} ({rule.severity})\n")
    click.echo(rule.doc())
    options = rule.defaults()
    if options:
        click.echo("\nDefaults: " + ", ".join(f"{k} = {v!r}" for k, v in options.items()))


@cli.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option("--rule", "code", required=True, metavar="CODE",
              help="The rule whose fix to measure (PF101, PF201, ...).")
@click.option("--column", "columns", multiple=True, metavar="NAME",
              help="Columns the fix applies to (default: the ones the rule flags; "
                   "PF102 always standardizes every numeric feature).")
@click.option("--target", metavar="COLUMN", help="The label/target column (default: inferred from its name).")
@click.option("--task", type=click.Choice(["binary", "multiclass", "regression"]), default=None,
              help="The learning task (default: inferred from the target's values).")
@click.option("--seeds", type=click.IntRange(min=1, max=32), default=None, help="Seeds [default: 3].")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps [default: 600].")
@click.option("--budget", type=click.FloatRange(min=0.0), default=None, metavar="SECONDS",
              help="Cut steps to fit this many seconds; 0 = no limit [default: 0 when --steps is given, else 3].")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Write an SVG plot of the loss curves.")
@click.option("--format", "fmt", type=click.Choice(PROBE_FORMATS), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Retrain instead of reusing a cached result.")
def probe(path: str, code: str, columns: tuple[str, ...], target: str | None, task: str | None, seeds: int | None,
          steps: int | None, budget: float | None, plot: Path | None, fmt: str, no_cache: bool) -> None:
    """Measure one rule's fix on a data file: train as-is and fixed, print the gap."""
    import json

    from preflight import config as cfg
    from preflight.checks import RULES_BY_CODE
    from preflight.inputs.dataset import read_one
    from preflight.inputs.options import ReadOptions
    from preflight.inputs.subject import TableSubject
    from preflight.probes import fix_of, run_probe, settings_from_config
    from preflight.report.evidence import render_line

    if plot is not None:
        refuse_input_as_output(plot, (path,))
    code = code.strip().upper()
    rule = RULES_BY_CODE.get(code)
    fix = fix_of(rule)
    if rule is None or fix is None:
        known = ", ".join(c for c, r in RULES_BY_CODE.items() if fix_of(r) is not None)
        raise PreflightError(f"no probe for rule {code!r}; rules with a probe: {known}")
    config = cfg.load(cfg.discover()).with_overrides(target=target, task=task)
    if budget is None and steps is not None:
        budget = 0.0
    settings = settings_from_config(config, overrides={"seeds": seeds, "steps": steps, "budget": budget,
                                                       "cache": False if no_cache else None})
    read = ReadOptions(target=config.target, target_source=config.target_source, task=config.task,
                       task_source=config.task_source)
    subject = read_one(path, read)
    if not isinstance(subject, TableSubject):
        raise PreflightError("the probe trains on data: pass a CSV, Parquet or .npy/.npz file", path)
    chosen = _probe_columns(subject, rule, list(columns), fix.transforms_columns, config)
    evidence = run_probe(subject, rule, chosen, settings)
    if plot is not None:
        from preflight.report.curves import loss_curves_svg

        _write(plot, printable_text(loss_curves_svg(evidence, title=f"{code} on {subject.display}")))
    if fmt == "json":
        click.echo(json.dumps(evidence.to_dict(), indent=2, allow_nan=False))
    else:
        click.echo(printable(f"{subject.display}: {code} probe {render_line(evidence)}"))
        for note in evidence.notes:
            click.echo(printable(f"    note: {note}"))


def _probe_columns(subject: Any, rule: Any, chosen: list[str], transforms: bool, config: Any) -> list[str]:
    """The columns ``preflight probe`` transforms: those given with ``--column`` (each must be one of
    the table's), else the ones the rule flags."""
    names = [c.name for c in subject.columns]
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise PreflightError(f"no column named {unknown[0]!r} for --column; columns are: "
                             + ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else ""),
                             subject.display)
    if chosen or not transforms:
        return chosen
    found = list(rule.check(subject, config.options_for(rule)))
    if not found:
        raise PreflightError(f"{rule.code} flags no column here; name the columns with --column", subject.display)
    # a finding without a column (PF101's one finding for a wide table) leaves the choice to the rule
    return [f.location.column for f in found if f.location.column]


def refuse_input_as_output(output: Path, inputs: tuple[str, ...]) -> None:
    """An output that is one of the inputs (the same file, also through a link), or a file of a type
    preflight reads inside an input folder, is refused before anything is read: writing it would
    destroy the data being checked."""
    if not output.exists():
        return
    for raw in inputs:
        given = Path(raw)
        try:
            same = os.path.samefile(output, given)
            inside = (given.is_dir() and output.is_file() and _reads(output)
                      and output.resolve().is_relative_to(given.resolve()))
        except (OSError, RuntimeError):  # an input that does not exist (reported later), a symlink loop
            continue
        if same or inside:
            raise PreflightError(f"is {'an input' if same else 'a file inside the input folder ' + repr(raw)} "
                                 "of this check; writing the report there would overwrite it: choose another path",
                                 output)


def _reads(path: Path) -> bool:
    from preflight.inputs import reader_for

    return reader_for(path) is not None


def _write(path: Path, text: str) -> None:
    """Write ``text`` (and a final newline) to ``path``. A new path or a regular file is replaced at
    once (a temporary file beside it, renamed over it); a symlink, a device (``/dev/stdout``) or a
    FIFO is written through, never replaced by a regular file."""
    data = (text + ("\n" if text and not text.endswith("\n") else "")).encode("utf-8")
    try:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            with open(path, "wb") as out:
                out.write(data)
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PreflightError(f"cannot write the report ({exc.strerror or exc})", path) from None


def _lossless_streams() -> None:
    """Standard output and error that cannot fail on a character: a stream whose encoding lacks one
    (``PYTHONIOENCODING=cp1252``, a Windows console or redirect) writes it as ``\\u2588`` instead of
    raising ``UnicodeEncodeError`` and losing the report."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # closed, or written to in a way that forbids it
                reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point. An unexpected error is one line, not a traceback (PREFLIGHT_DEBUG=1 shows it)."""
    _lossless_streams()
    try:
        cli.main(args=argv, prog_name=prog_name or "preflight", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare ``preflight``: the help, once
        click.echo(exc.format_message(), err=True)
        sys.exit(2)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        click.echo(f"error: {printable(exc.format_message())}", err=True)
        sys.exit(exc.exit_code if exc.exit_code else 2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: say so in one line
        if os.environ.get("PREFLIGHT_DEBUG"):
            raise
        click.echo(printable(f"error: internal error: {type(exc).__name__}: {exc} "
                             "(a bug in preflight; rerun with PREFLIGHT_DEBUG=1 for the traceback and report it)"),
                   err=True)
        sys.exit(2)
