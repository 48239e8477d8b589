"""Runs the rules over subjects, decides suppression, attaches probe evidence, and builds the Report.

Inputs are read one at a time, so a directory of large files never holds more than one file's
statistics. A file that cannot be read becomes one error line; the others are still checked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from preflight.checks import ALL_RULES, Rule
from preflight.config import Config
from preflight.errors import PreflightError
from preflight.findings import Finding, Report
from preflight.inputs import expand, read_path
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import Subject, Summary, Suppressions, TableSubject

# Called with (findings, subject, config) after the rules ran on a subject; returns the findings
# with probe evidence attached. Set by the probe package; None means no probing. A hook may say
# for how many findings it will train (``hook.trains(findings, subject, config)``).
ProbeHook = Callable[[list[Finding], Subject, Config], list[Finding]]


@dataclass(frozen=True)
class RunOptions:
    probe: bool = True
    probe_hook: ProbeHook | None = None
    # Called with (input name, number of findings) before the probe trains for them (progress); not
    # for inputs it does not train on (a .py file or a live loader gets recorded evidence).
    on_probe: Callable[[str, int], None] | None = None


def rules_for(subject: Subject, config: Config) -> list[Rule]:
    return [r for r in ALL_RULES if isinstance(subject, r.subject) and config.enabled(r.code, subject.display)]


def suppressed(finding: Finding, comments: Suppressions) -> bool:
    """True when ``# preflight: ignore`` (bare, or naming the code or a prefix of it) is on the
    finding's line or on the last line of the code it points at (``Location.end_line``)."""
    for line in (finding.location.line, finding.location.end_line):
        if line is None or line not in comments:
            continue
        codes = comments[line]
        if codes is None or any(finding.code.startswith(c) for c in codes):
            return True
    return False


def check_subject(subject: Subject, config: Config, options: RunOptions = RunOptions()) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules_for(subject, config):
        findings.extend(rule.check(subject, config.options_for(rule)))
    comments = subject.suppressions()
    if comments:
        findings = [f for f in findings if not suppressed(f, comments)]
    if options.probe and options.probe_hook is not None and findings:
        if options.on_probe is not None:
            n = probe_trainings(options.probe_hook, findings, subject, config)
            if n:
                options.on_probe(subject.display, n)
        findings = options.probe_hook(findings, subject, config)
    return findings


def probe_trainings(hook: ProbeHook, findings: list[Finding], subject: Subject, config: Config) -> int:
    """For how many ``findings`` the probe hook will train on ``subject``: the hook's own answer
    (``hook.trains``) when it gives one, else all of them when the subject is a table with sampled
    rows and none otherwise (a .py file, a live loader)."""
    trains = getattr(hook, "trains", None)  # a plain function hook (a test's) has no answer
    if trains is not None:
        return int(trains(findings, subject, config))
    return len(findings) if isinstance(subject, TableSubject) and subject.sample is not None else 0


def check_paths(paths: Sequence[str | os.PathLike], config: Config, options: RunOptions = RunOptions(),
                on_file: Callable[[str], None] | None = None,
                on_read: Callable[[str, int, int], None] | None = None,
                on_rows: Callable[[int], None] | None = None) -> Report:
    """Check files and directories. Usage errors (a missing path) raise; unreadable files are reported.

    Progress callbacks: ``on_read(path, index, total)`` before each file is read, ``on_rows(n)`` as
    rows are read, ``on_file(name)`` after a file was read.
    """
    files = expand(list(paths))
    read = ReadOptions(target=config.target, target_source=config.target_source, task=config.task,
                       task_source=config.task_source, on_rows=on_rows)
    return check_subjects((_lazy(f, read, on_read, i, len(files)) for i, f in enumerate(files)), config, options,
                          on_file=on_file)


def check_subjects(subjects: Iterable[Callable[[], Subject]], config: Config, options: RunOptions = RunOptions(),
                   on_file: Callable[[str], None] | None = None) -> Report:
    findings: list[Finding] = []
    summaries: list[Summary] = []
    errors: list[str] = []
    started = time.perf_counter()
    for make in subjects:
        try:
            subject = make()
            if on_file is not None:
                on_file(subject.display)
            found = check_subject(subject, config, options)
            summary = subject.summary()
        except PreflightError as exc:
            errors.append(exc.format_message())
            continue
        except Exception as exc:  # a bug met on one input: say so, and still check the others
            if os.environ.get("PREFLIGHT_DEBUG"):
                raise
            errors.append(f"{getattr(make, 'display', '<object>')}: internal error: {type(exc).__name__}: {exc} "
                          "(a bug in preflight; rerun with PREFLIGHT_DEBUG=1 for the traceback and report it)")
            continue
        findings.extend(found)
        summaries.append(summary)
    meta = {"files": summaries, "seconds": round(time.perf_counter() - started, 3)}
    return Report.build(findings, meta, errors)


def _lazy(path: Path, read: ReadOptions, on_read: Callable[[str, int, int], None] | None = None,
          index: int = 0, total: int = 1) -> Callable[[], Subject]:
    def make() -> Subject:
        if on_read is not None:
            on_read(str(path), index, total)
        return read_path(path, read)

    make.display = str(path)  # type: ignore[attr-defined]  # names the input in an internal-error line
    return make
