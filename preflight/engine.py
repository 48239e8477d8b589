"""Runs the rules over subjects, decides suppression, attaches probe evidence, and builds the Report.

Inputs are read one at a time, so a directory of large files never holds more than one file's
statistics. A file that cannot be read becomes one error line; the others are still checked.

Python files are static checks with no shared state but the module cache: when a run holds many
(``PARALLEL_MIN_FILES``) and the machine has several cores, they are read and checked in worker
processes (``PREFLIGHT_JOBS`` sets how many; 1 runs them here), in consecutive slices so the files
of one folder, which import one another, share a worker's cache; the report lists them in the same
order as a serial run, and the probe evidence is attached here. A ``.py`` file found by walking a
folder that fails the cheap text test (no framework or no loss / DataLoader named) is not parsed.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight.analysis.parsing import paused_gc
from preflight.checks import ALL_RULES, Rule
from preflight.config import Config
from preflight.errors import InputError, PreflightError
from preflight.findings import Finding, Report
from preflight.inputs import Walk, expand_inputs, read_path, read_walked
from preflight.inputs.ignore import exclude_patterns
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import CodeSubject, Subject, Summary, Suppressions, TableSubject

PARALLEL_MIN_FILES = 48  # fewer Python files than this are checked here: a worker's start costs more
PY_SUFFIXES = (".py", ".pyw")
LARGE_FILE_BYTES = 64_000  # a Python file this large is a worker's task on its own

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


# code -> the codes whose findings explain it (``Rule.superseded_by``)
SUPERSEDED_BY: dict[str, tuple[str, ...]] = {r.code: r.superseded_by for r in ALL_RULES if r.superseded_by}


def rules_for(subject: Subject, config: Config) -> list[Rule]:
    return [r for r in ALL_RULES if isinstance(subject, r.subject) and config.enabled(r.code, subject.display)]


def suppressed(finding: Finding, comments: Suppressions) -> bool:
    """True when ``# preflight: ignore`` (bare, or naming the code or a prefix of it) or ``# noqa: CODE``
    is on the finding's line or on the last line of the code it points at (``Location.end_line``)."""
    return bool(suppressing(finding, comments))


def suppressing(finding: Finding, comments: Suppressions) -> list[tuple[int, str | None]]:
    """The (line, code) entries of ``comments`` that silence ``finding`` (code None: a bare ignore)."""
    hits: list[tuple[int, str | None]] = []
    for line in (finding.location.line, finding.location.end_line):
        if line is None or line not in comments:
            continue
        codes = comments[line]
        if codes is None:
            hits.append((line, None))
        else:
            hits += [(line, c) for c in codes if finding.code.startswith(c)]
    return hits


def rule_findings(subject: Subject, config: Config) -> list[Finding]:
    """The rules' findings on a subject, suppressions applied (no probe)."""
    findings: list[Finding] = []
    rules = rules_for(subject, config)
    for rule in rules:
        findings.extend(rule.check(subject, config.options_for(rule)))
    comments = subject.suppressions()
    if comments:
        used: set[tuple[int, str | None]] = set()
        kept = []
        for f in findings:
            hits = suppressing(f, comments)
            used.update(hits)
            if not hits:
                kept.append(f)
        findings = kept
        if isinstance(subject, CodeSubject):
            subject.notes.extend(unknown_code_notes(comments, subject.display, subject.lines))
            if config.report_unused_ignores:
                subject.notes.extend(unused_notes(comments, used, subject.display, subject.lines,
                                                  {r.code for r in rules}))
    return without_superseded(findings)


def _names_rule(code: str) -> bool:
    return any(r.code.startswith(code) for r in ALL_RULES)


def unknown_code_notes(comments: Suppressions, display: object, lines: Sequence[str] = ()) -> list[str]:
    """A note for each code in a suppression comment that is neither a rule's code nor a prefix of one
    (``ignore[PF999]``, ``# noqa: PF999``): it silences nothing, and a typo there should not pass unseen."""
    from preflight.inputs.pysource import SUPPRESSION_HELP, place_line, suppression_form

    return [f"{place_line(display, line)}: '{suppression_form(_line(lines, line), code)}' names no rule "
            f"(see `preflight rules`), and silences nothing; {SUPPRESSION_HELP}"
            for line, named in sorted(comments.items()) if named is not None
            for code in sorted(named) if not _names_rule(code)]


def unused_notes(comments: Suppressions, used: set[tuple[int, str | None]], display: object,
                 lines: Sequence[str] = (), checked: set[str] | None = None) -> list[str]:
    """``--report-unused-ignores``: a note for each suppression that silenced no finding of this run
    (codes that name no rule have their own note). A code none of whose rules ran this time (``checked``:
    deselected, ignored) is not judged: removing its comment would bring its finding back on a full run."""
    from preflight.inputs.pysource import place_line, suppression_form

    out = []
    for line, named in sorted(comments.items()):
        for code in ([None] if named is None else sorted(c for c in named if _names_rule(c))):
            ran = checked is None or code is None or any(r.startswith(code) for r in checked)
            if ran and (line, code) not in used:
                out.append(f"{place_line(display, line)}: '{suppression_form(_line(lines, line), code)}' is unused: "
                           "no finding of the selected rules is there to silence; remove it")
    return out


def _line(lines: Sequence[str], line: int) -> str:
    return lines[line - 1] if 0 < line <= len(lines) else ""


def without_superseded(findings: list[Finding]) -> list[Finding]:
    """Findings less those of a rule whose ``superseded_by`` codes were reported on the same subject
    (after suppression: a silenced finding explains nothing)."""
    reported = {f.code for f in findings}
    return [f for f in findings
            if not reported.intersection(SUPERSEDED_BY.get(f.code, ()))]


def check_subject(subject: Subject, config: Config, options: RunOptions = RunOptions()) -> list[Finding]:
    return with_probes(rule_findings(subject, config), subject, config, options)


def with_probes(findings: list[Finding], subject: Subject, config: Config, options: RunOptions) -> list[Finding]:
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
    """Check files and directories. A path that cannot be checked (missing, unsupported, a named pipe,
    an empty or unlistable folder) and a file that cannot be read are each one error line in the
    report, in their place; the other files are still checked.

    Progress callbacks: ``on_read(path, index, total)`` before each file is read, ``on_rows(n)`` as
    rows are read, ``on_file(name)`` after a file was read.
    """
    walk = walk_for(config)
    items = expand_inputs(list(paths), walk)
    files = [item for item in items if not isinstance(item, PreflightError)]
    read = ReadOptions(target=config.target, target_source=config.target_source, task=config.task,
                       task_source=config.task_source, on_rows=on_rows, stdin_name=config.stdin_filename)
    done = _static_in_parallel(files, config)

    def makers() -> Iterable[Callable[[], Any]]:
        i = 0
        for item in items:
            if isinstance(item, PreflightError):
                yield _refused(item)
                continue
            f, walked = item
            yield _lazy(f, read, on_read, i, len(files), walked, done.get(i))
            i += 1

    report = check_subjects(makers(), config, options, on_file=on_file)
    if walk.skipped:  # "...; 3 files skipped (unsupported type)" in the summary line
        report = Report.build(report.findings, {**report.summary, "skipped": walk.skipped}, report.errors)
    return report


def walk_for(config: Config) -> Walk:
    """The config's file choice for a folder's walk: its ``exclude`` and ``extend-exclude`` patterns
    (relative to its folder), the command line's (relative to the current one), ``respect-gitignore``,
    ``force-exclude``."""
    patterns = exclude_patterns(config.exclude + config.extend_exclude, config.root)
    patterns += exclude_patterns(config.cli_exclude, None)
    return Walk(exclude=patterns, respect_gitignore=config.respect_gitignore, force_exclude=config.force_exclude)


def _refused(error: PreflightError) -> Callable[[], Any]:
    """A subject maker for a path that cannot be checked: it raises the error line."""
    def make() -> Any:
        raise error

    return make


def check_subjects(subjects: Iterable[Callable[[], Subject]], config: Config, options: RunOptions = RunOptions(),
                   on_file: Callable[[str], None] | None = None) -> Report:
    findings: list[Finding] = []
    summaries: list[Summary] = []
    errors: list[InputError] = []
    started = time.perf_counter()
    for make in subjects:
        try:
            subject = make()
            if on_file is not None:
                on_file(subject.display)
            if isinstance(subject, Prechecked):  # checked by a worker: only the probe evidence is left
                found = with_probes(list(subject.findings), subject.stub, config, options)
                summary = subject.summary_
            else:
                # the cyclic collector's passes over syntax trees cost more than the analysis (workers run with it off)
                with paused_gc() if isinstance(subject, CodeSubject) else nullcontext():
                    found = check_subject(subject, config, options)
                summary = subject.summary()
        except PreflightError as exc:
            path = getattr(exc, "path", None) or getattr(make, "display", None)
            errors.append(InputError(exc.format_message(), path))
            continue
        except Exception as exc:  # a bug met on one input: say so, and still check the others
            if os.environ.get("PREFLIGHT_DEBUG"):
                raise
            where = getattr(make, "display", None)
            errors.append(InputError(f"{where or '<object>'}: internal error: {type(exc).__name__}: {exc} "
                                     "(a bug in preflight; rerun with PREFLIGHT_DEBUG=1 for the traceback and "
                                     "report it)", where))
            continue
        findings.extend(found)
        summaries.append(summary)
    meta = {"files": summaries, "seconds": round(time.perf_counter() - started, 3)}
    return Report.build(findings, meta, errors)


@dataclass(frozen=True)
class Prechecked:
    """A Python file a worker process read and checked: its findings, summary, and a stand-in
    subject (no syntax tree) for the probe hook, which attaches recorded evidence to code findings."""

    stub: CodeSubject
    findings: tuple[Finding, ...]
    summary_: Summary
    display: str


# (display, findings, summary, error line): what a worker sends back for one file
_WorkerResult = tuple[str, list[Finding], Any, str | None]


def jobs_for(n_python: int) -> int:
    """Worker processes for ``n_python`` Python files: ``PREFLIGHT_JOBS``, else one per core (at most 8)."""
    env = os.environ.get("PREFLIGHT_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if n_python < PARALLEL_MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _static_in_parallel(files: list[tuple[Path, bool]], config: Config) -> dict[int, Prechecked | str]:
    """Check the Python files in worker processes, when it pays; index -> result (or an error line)."""
    py = [i for i, (f, _) in enumerate(files) if f.suffix.lower() in PY_SUFFIXES]
    jobs = min(jobs_for(len(py)), len(py))
    if jobs <= 1:
        return {}
    slices = _slices(py, files, jobs)
    # fork is cheap and safe while torch is not loaded here; with torch loaded, start clean workers
    method = "spawn" if "torch" in sys.modules or sys.platform == "win32" else "fork"
    out: dict[int, Prechecked | str] = {}
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                                 initializer=_worker_start) as pool:
            batches = pool.map(_check_python_files, [[(str(files[i][0]), files[i][1]) for i in s] for s in slices],
                               [config] * len(slices))
            for s, results in zip(slices, batches):
                for i, (display, found, summary, error) in zip(s, results):
                    out[i] = error if error is not None else Prechecked(_stub(files[i][0], display), tuple(found),
                                                                        summary, display)
    except (OSError, ImportError, RuntimeError):  # no process pool here (a sandbox): check them serially
        return {}
    return out


def _slices(py: list[int], files: list[tuple[Path, bool]], jobs: int) -> list[list[int]]:
    """Work for the workers, largest first so that one big file does not finish last: each large file
    alone, the others in consecutive slices (the files of a folder share a worker's module cache)."""
    def size(i: int) -> int:
        try:
            return files[i][0].stat().st_size
        except OSError:
            return 0

    sizes = {i: size(i) for i in py}
    big = [[i] for i in py if sizes[i] >= LARGE_FILE_BYTES]
    rest = [i for i in py if sizes[i] < LARGE_FILE_BYTES]
    step = max(4, len(rest) // (jobs * 8))
    slices = big + [rest[k:k + step] for k in range(0, len(rest), step)]
    return sorted(slices, key=lambda s: -sum(sizes[i] for i in s))


def _worker_start() -> None:
    """A worker's cyclic garbage collector stays off: the worker lives for one run, and what it builds
    (syntax trees, the walks its module cache keeps) holds no reference cycles and is freed by
    reference counting, while the collector's passes over those millions of live objects cost more
    than the parsing itself (``preflight.analysis.parsing``). On the torch package's 2,285 files a
    whole run leaves 394 objects in cycles."""
    gc.disable()


def _stub(path: Path, display: str) -> CodeSubject:
    return CodeSubject(path=str(path), display=display, source="", tree=None, lines=[])


def _check_python_files(items: list[tuple[str, bool]], config: Config) -> list[_WorkerResult]:
    """In a worker: read and check each Python file; never raises (an error is one line)."""
    out: list[_WorkerResult] = []
    read = ReadOptions(target=config.target, target_source=config.target_source)
    for raw, walked in items:
        path = Path(raw)
        try:
            subject = read_walked(path, read) if walked else read_path(path, read)
            # a file the text test turned away has no syntax tree, and no code rule reads anything else
            found = [] if isinstance(subject, CodeSubject) and subject.tree is None else rule_findings(subject, config)
            out.append((subject.display, found, subject.summary(), None))
        except PreflightError as exc:
            out.append((raw, [], None, exc.format_message()))
        except Exception as exc:  # a bug met on one input: the same line a serial run gives
            out.append((raw, [], None, f"{raw}: internal error: {type(exc).__name__}: {exc} (a bug in preflight; "
                                       "rerun with PREFLIGHT_DEBUG=1 for the traceback and report it)"))
    return out


def _lazy(path: Path, read: ReadOptions, on_read: Callable[[str, int, int], None] | None = None,
          index: int = 0, total: int = 1, walked: bool = False, done: Prechecked | str | None = None) \
        -> Callable[[], Any]:
    def make() -> Any:
        if on_read is not None:
            on_read(str(path), index, total)
        if isinstance(done, str):
            raise PreflightError(done)
        if done is not None:
            return done
        return read_walked(path, read) if walked else read_path(path, read)

    make.display = str(path)  # type: ignore[attr-defined]  # names the input in an internal-error line
    return make
