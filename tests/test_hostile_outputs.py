"""Hostile input, round 2 (issue 15), part B: what preflight writes, the library's objects,
suppression comments, the probe and its cache.

Every case in ``CASES`` is one test (``test_case``, parametrized over the ids) and one row of
``tests/hostile/README.md`` (its ``## tests/test_hostile_outputs.py`` section). Names hold control,
escape, bidi and glob characters; runs pass several paths; the cases that train run with the probe on
(a small budget, a private cache), and record warnings, since a warning from inside the probe is a
line on the user's stderr. The property test (``test_no_name_writes_a_command_or_an_escape``)
generates column and file names for every output format.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, Result, run_cli

CASES: dict[str, str] = {
    "newline-column-name": "a column named 'a\\n::error file=x::pwned' writes no line that starts a workflow command",
    "escape-file-name": "a file name holding ESC ]0; (window title), CSI 2J and U+202E is written escaped",
    "hostile-error-line": "an unreadable file named with a newline and '::warning::' is one escaped error line",
    "hostile-names-probe-on": "hostile column and file names, two paths, the probe on: escaped output, no warning",
    "progress-line": "the progress line on a terminal writes a hostile file name escaped",
    "github-only-own-commands": "--format github: every line starting '::' is one annotation preflight wrote",
    "output-is-input": "-o data.csv on the input data.csv is refused in one line (exit 2); the input is unchanged",
    "output-is-input-via-link": "-o a symlink (or hard link) to an input is refused; the input is unchanged",
    "output-in-input-folder": "-o folder/train.csv inside an input folder is refused; -o folder/report.txt is written",
    "output-symlink-written-through": "-o a symlink writes the file it points to; the link stays a link",
    "output-fifo-written-through": "-o a FIFO writes into the FIFO; it stays a FIFO",
    "output-dev-stdout": "-o a link to /proc/self/fd/1 (what /dev/stdout is) writes to stdout; a device stays one",
    "lib-bfloat16-tensor": "a bfloat16 Tensor (features and labels) is read as float32: the same findings as float32",
    "lib-sparse-tensor": "a sparse Tensor is read dense: the same findings as dense",
    "lib-meta-tensor": "a meta Tensor, or a Dataset of them, is refused in one line (no values to check)",
    "lib-meta-model": "model= on the meta device is refused in one line",
    "lib-raising-targets": "a Dataset whose .targets property raises is still read, from its items",
    "lib-lazyframe": "a polars LazyFrame is refused in one line that says to collect() it",
    "lib-config-wrong-type": "config= of a wrong type or a folder is one PreflightError line, never a TypeError",
    "lib-select-string": "select='PF101' is one code (not P, F, 1, ...); a bad one names select=",
    "lib-bad-scalars": "target=5 for an array and probe_budget='x' are refused in one line",
    "home-unset": "HOME unset and no passwd entry (docker --user 4242): checked with the probe, no cache, stderr clean",
    "home-unset-other-uid": "the same as a real uid without a passwd entry (a loud skip where it cannot run)",
    "cache-entry-links": "probe-cache entries replaced by links to /dev/zero are misses, rewritten as regular files",
    "cache-entry-fifo": "a probe-cache entry that is a FIFO is a miss at once (no hang) and is replaced",
    "suppression-malformed": "ignore [PF999], ignore[PF999 and ignored-by-mistake silence nothing and are noted",
    "suppression-unknown-code": "ignore[PF999] names no rule: silences nothing, noted; ignore[PF301] still silences",
    "suppression-notebook": "a malformed suppression in a notebook cell is noted by cell and line",
    "probe-huge-values": "values near 1e308: probe skipped (not finite in float32), severity kept, no warnings",
    "probe-bool-target": "a True/False target is two classes to the probe, not 'a single class'",
    "probe-many-classes": "a text target with 50,000 classes: skipped as too many classes, not 'a single class'",
    "probe-stderr-clean": "the three probe files in one real process: exit 1, stderr empty (no RuntimeWarning)",
    "py312-syntax": "PEP 695 syntax under Python 3.11 says it needs Python 3.12, not 'fix it'; other files checked",
    "syntax-error-wording": "a plain syntax error names the Python that parsed it and allows newer syntax",
}

# characters a name must never carry raw to an output: C0 (less tab), DEL, C1, bidi controls, separators
RAW_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = "a\n::error file=x.py,line=1::pwned\x1b]0;title\x07\x1b[2J\u202e\x9b31m*?[1]"
ANNOTATION = re.compile(r"^::(error|warning|notice) [^:\n]*::[^\n]*$")


def _assert_safe(text: str, *, github: bool = False) -> None:
    """No raw control/escape/bidi character; no line that (after whitespace) starts a workflow command,
    but the annotations of --format github, each one well-formed command on one line."""
    lines = text.split("\n")
    bad = [line for line in lines if RAW_UNSAFE.search(line)]
    assert not bad, f"raw control characters reach the output: {bad[:3]!r}"
    for line in lines:
        if line.lstrip().startswith("::"):
            assert github and ANNOTATION.match(line), f"a line starts a workflow command: {line!r}"


def _assert_run_safe(result: Result, fmt: str) -> None:
    _assert_safe(result.stdout, github=fmt == "github")
    _assert_safe(result.stderr)
    for line in result.stderr.splitlines():
        assert line.startswith("error: "), f"stderr holds more than error lines: {line!r}"


def _scaled_frame(col: str, n: int = 240, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({col: rng.normal(50.0, 400.0, n), "label": np.sort(rng.integers(0, 2, n))})


def _probe_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("PREFLIGHT_CACHE_DIR", str(tmp_path / "cache"))
    return ["--probe-budget", "0.3"]


def _quiet_cli(args: list[str], cwd: Path | None = None) -> tuple[Result, list[str]]:
    """run_cli, recording every warning raised (pytest would otherwise hide them from stderr)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_cli(args, cwd=cwd)
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


# --- names reach outputs escaped --------------------------------------------------------------------

def case_newline_column_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _scaled_frame(HOSTILE).write_parquet(tmp_path / "data.parquet")
    _scaled_frame("plain", seed=1).write_parquet(tmp_path / "other.parquet")
    for fmt in ("text", "json", "sarif", "github", "html"):
        r = run_cli(["check", "--no-probe", "--format", fmt, "data.parquet", "other.parquet"], cwd=tmp_path)
        assert r.code == 1, (fmt, r.stderr)
        _assert_run_safe(r, fmt)
    text = run_cli(["check", "--no-probe", "data.parquet"], cwd=tmp_path).stdout
    assert "[a\\n::error file=x.py,line=1::pwned\\x1b]0;title\\x07\\x1b[2J\\u202e\\x9b31m*?[1]] mean" in text
    as_json = json.loads(run_cli(["check", "--no-probe", "--format", "json", "data.parquet"], cwd=tmp_path).stdout)
    assert HOSTILE in {f["column"] for f in as_json["findings"]}  # JSON keeps the name, escaped by JSON


def case_escape_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "t\x1b]0;owned\x07\x9b2J\u202eata.parquet"  # OSC window title, C1 CSI clear screen, RLO
    _scaled_frame("x").write_parquet(tmp_path / name)
    for fmt in ("text", "json", "sarif", "github", "html"):
        r = run_cli(["check", "--no-probe", "--format", fmt, name], cwd=tmp_path)
        assert r.code == 1, (fmt, r.stderr)
        _assert_run_safe(r, fmt)
    text = run_cli(["check", "--no-probe", name], cwd=tmp_path).stdout
    assert text.startswith("t\\x1b]0;owned\\x07\\x9b2J\\u202eata.parquet: PF101 unnormalized-feature [x] ")


def case_hostile_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "::warning::x\n::error::y\x1b[2J.csv"
    (tmp_path / name).write_bytes(b"\x00\x01\x02 not a csv \xff")
    _scaled_frame("x").write_csv(tmp_path / "good.csv")
    for fmt in ("text", "github", "json"):
        r = run_cli(["check", "--no-probe", "--format", fmt, name, "good.csv"], cwd=tmp_path)
        assert r.code == 2
        _assert_run_safe(r, fmt)
        assert len(r.stderr.splitlines()) == 1
        assert r.stderr.startswith("error: \\x3a:warning::x\\n::error::y\\x1b[2J.csv: ")
        assert "good.csv" in r.stdout  # the good file was still checked and reported


def case_hostile_names_probe_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = _probe_args(tmp_path, monkeypatch)
    _scaled_frame(HOSTILE).write_parquet(tmp_path / "d\x1b]8;;x\x07\n::x.parquet")
    _scaled_frame("plain", seed=2).write_csv(tmp_path / "plain.csv")
    r, caught = _quiet_cli(["check", *args, "d\x1b]8;;x\x07\n::x.parquet", "plain.csv"], cwd=tmp_path)
    assert r.code == 1 and not caught, (r.stderr, caught)
    _assert_run_safe(r, "text")
    assert r.stdout.count("    probe: ") >= 4  # the probe ran on both files (PF101 and PF201 each)
    assert "d\\x1b]8;;x\\x07\\n::x.parquet: PF101 unnormalized-feature [a\\n::error" in r.stdout


def case_progress_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from preflight.report.progress import Progress

    monkeypatch.setenv("COLUMNS", "400")
    ticks = iter(float(t) for t in range(100))
    stream = io.StringIO()
    bar = Progress(stream, enabled=True, clock=lambda: next(ticks))
    bar.reading("::error::x\n\x1b]0;t\x07\u202e.csv", 0, 2)
    bar.rows_read(10)
    bar.file_done("::error::x\n\x1b]0;t\x07\u202e.csv")
    drawn = stream.getvalue()
    assert "\x1b" not in drawn and "\n" not in drawn and "\u202e" not in drawn
    assert "checked \\x3a:error::x\\n\\x1b]0;t\\x07\\u202e.csv" not in drawn  # mid-line: no ':' to defuse
    assert "checked ::error::x\\n\\x1b]0;t\\x07\\u202e.csv" in drawn
    _assert_safe(drawn.replace("\r", ""))


def case_github_only_own_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _scaled_frame("x,\n::error::y:z").write_parquet(tmp_path / "a,b:c.parquet")
    (tmp_path / "broken\n::notice::n.csv").write_bytes(b"\x00\x00")
    r = run_cli(["check", "--no-probe", "--format", "github", "a,b:c.parquet", "broken\n::notice::n.csv"],
                cwd=tmp_path)
    assert r.code == 2
    _assert_run_safe(r, "github")
    commands = [line for line in r.stdout.splitlines() if line.startswith("::")]
    assert [c.split(" ", 1)[0] for c in commands] == ["::warning", "::warning", "::error"]  # 2 findings, 1 error
    assert all(ANNOTATION.match(c) for c in commands)


# --- -o never replaces what it is given -------------------------------------------------------------

def _data(tmp_path: Path, name: str = "data.csv") -> tuple[Path, bytes]:
    path = tmp_path / name
    _scaled_frame("x").write_csv(path)
    return path, path.read_bytes()


def case_output_is_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, before = _data(tmp_path)
    _data(tmp_path, "other.csv")
    for fmt in ("text", "json"):
        r = run_cli(["check", "--no-probe", "--format", fmt, "other.csv", "data.csv", "-o", "data.csv"], cwd=tmp_path)
        assert r.code == 2 and r.stdout == ""
        assert r.stderr == ("error: data.csv: is an input of this check; writing the report there would overwrite "
                            "it: choose another path\n")
        assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "other.csv"]  # no temporary file left


def case_output_is_input_via_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, before = _data(tmp_path)
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    for out in ("link.csv", "hard.csv", str(data)):
        r = run_cli(["check", "--no-probe", "data.csv", "-o", out], cwd=tmp_path)
        assert r.code == 2 and "is an input of this check" in r.stderr, out
        assert data.read_bytes() == before
    assert (tmp_path / "link.csv").is_symlink()


def case_output_in_input_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    data, before = _data(folder, "train.csv")
    r = run_cli(["check", "--no-probe", "folder", "-o", "folder/train.csv"], cwd=tmp_path)
    assert r.code == 2 and "a file inside the input folder 'folder'" in r.stderr
    assert data.read_bytes() == before
    r = run_cli(["check", "--no-probe", "folder", "-o", "folder/report.txt"], cwd=tmp_path)
    assert r.code == 1 and r.stdout == ""
    assert "folder/train.csv: PF101" in (folder / "report.txt").read_text()


def case_output_symlink_written_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _data(tmp_path)
    target = tmp_path / "reports" / "latest.txt"
    target.parent.mkdir()
    target.write_text("old\n")
    (tmp_path / "out.txt").symlink_to(target)
    r = run_cli(["check", "--no-probe", "data.csv", "-o", "out.txt"], cwd=tmp_path)
    assert r.code == 1
    assert (tmp_path / "out.txt").is_symlink() and os.readlink(tmp_path / "out.txt") == str(target)
    assert target.read_text().startswith("data.csv: PF101 unnormalized-feature [x] ")
    assert sorted(p.name for p in target.parent.iterdir()) == ["latest.txt"]


def case_output_fifo_written_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _data(tmp_path)
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    r = run_cli(["check", "--no-probe", "--format", "json", "data.csv", "-o", "report.fifo"], cwd=tmp_path)
    reader.join(30)
    assert r.code == 1 and not reader.is_alive()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [f["code"] for f in json.loads(got[0])["findings"]] == ["PF101", "PF201"]


def case_output_dev_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-o /dev/stdout`` is a link to the process's fd 1. The test uses its own link to ``/proc/self/fd/1``
    (and, as root, its own copy of the /dev/null device), never the machine's: a regression that
    renamed a file over the output would replace the real /dev/stdout of the machine running the tests."""
    _data(tmp_path)
    (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "preflight", "check", "--no-probe", "data.csv", "-o", "stdout"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith("data.csv: PF101 unnormalized-feature [x] ") and p.stderr == ""
    assert os.readlink(tmp_path / "stdout") == "/proc/self/fd/1"
    names = ["data.csv", "stdout"]
    if os.geteuid() == 0:  # a character device: written through, still a device
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        r = run_cli(["check", "--no-probe", "data.csv", "-o", "null"], cwd=tmp_path)
        assert r.code == 1 and r.stdout == "" and stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)
        names.append("null")
    assert sorted(q.name for q in tmp_path.iterdir()) == sorted(names)  # no temporary file left


# --- library objects --------------------------------------------------------------------------------

def _codes(report: object) -> list[tuple[str, str | None]]:
    return [(f.code, f.location.column) for f in report.findings]  # type: ignore[attr-defined]


def _xy() -> tuple[object, object]:
    import torch

    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(0, 1, (240, 3)) * np.array([300.0, 1.0, 1.0]), dtype=torch.float32)
    y = torch.tensor(np.sort(rng.integers(0, 2, 240)))
    return X, y


def case_lib_bfloat16_tensor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import preflight

    X, y = _xy()
    expect = _codes(preflight.check(X, target=y, probe=False))
    assert ("PF101", "x0") in expect
    assert _codes(preflight.check(X.to(torch.bfloat16), target=y.to(torch.bfloat16), probe=False)) == expect
    loader = DataLoader(TensorDataset(X.to(torch.bfloat16), y), batch_size=16)
    assert {c for c, _ in _codes(preflight.check(loader, probe=False))} >= {"PF101", "PF203"}


def case_lib_sparse_tensor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import preflight

    X, y = _xy()
    assert _codes(preflight.check(X.to_sparse(), target=y, probe=False)) == _codes(  # type: ignore[attr-defined]
        preflight.check(X, target=y, probe=False))


def case_lib_meta_tensor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from torch.utils.data import TensorDataset

    import preflight

    _, y = _xy()
    meta = torch.empty(240, 3, device="meta")
    with pytest.raises(preflight.PreflightError, match=r"^the Tensor passed to preflight.check: a meta tensor"):
        preflight.check(meta, target=y, probe=False)
    with pytest.raises(preflight.PreflightError, match=r"^the batches' features: a meta tensor") as info:
        preflight.check(TensorDataset(meta, y), probe=False)
    assert "\n" not in str(info.value)


def case_lib_meta_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import preflight

    X, y = _xy()
    loader = DataLoader(TensorDataset(X, y.float()), batch_size=16)
    for obj in (loader, None):
        with pytest.raises(preflight.PreflightError, match=r"^model= is on the meta device"):
            preflight.check(obj, model=torch.nn.Linear(3, 1, device="meta"), loss=torch.nn.BCEWithLogitsLoss(),
                            probe=False)


def case_lib_raising_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch.utils.data import DataLoader, Dataset

    import preflight

    X, y = _xy()

    class Raising(Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return 240

        def __getitem__(self, i: int) -> tuple[object, object]:
            return X[i], y[i]  # type: ignore[index]

        @property
        def targets(self) -> object:
            raise RuntimeError("labels are loaded lazily")

    codes = {c for c, _ in _codes(preflight.check(DataLoader(Raising(), batch_size=16), probe=False))}
    assert {"PF101", "PF203", "PF204"} <= codes  # sorted labels still found, from the items


def case_lib_lazyframe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import preflight

    lazy = _scaled_frame("x").lazy()
    with pytest.raises(preflight.PreflightError, match=r"^a polars LazyFrame is a query.*lf\.collect\(\)"):
        preflight.check(lazy, probe=False)
    assert ("PF101", "x") in _codes(preflight.check(lazy.collect(), probe=False))


def case_lib_config_wrong_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import preflight

    X, y = np.ones((40, 2)), np.arange(40) % 2
    for config, words in ((123, "config= must be a Config"), (b"x.toml", "not bytes"), (["a"], "not list"),
                          ({"select": 5}, "select must be a list"), (tmp_path, "is a folder, not a config file")):
        with pytest.raises(preflight.PreflightError) as info:
            preflight.check(X, target=y, config=config, probe=False)  # type: ignore[arg-type]
        assert words in info.value.format_message() and "\n" not in info.value.format_message()


def case_lib_select_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import preflight

    df = _scaled_frame("x").to_pandas()
    assert {c for c, _ in _codes(preflight.check(df, select="PF101", probe=False))} == {"PF101"}
    assert {c for c, _ in _codes(preflight.check(df, select="PF2", probe=False))} == {"PF201"}
    with pytest.raises(preflight.PreflightError, match=r"^select=: unknown rule code 'XX1'"):
        preflight.check(df, select="XX1", probe=False)


def case_lib_bad_scalars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import preflight

    X = np.ones((40, 2))
    with pytest.raises(preflight.PreflightError, match=r"^target= must be the labels, one per row"):
        preflight.check(X, target=5, probe=False)
    for budget in ("x", -1.0, float("nan")):
        with pytest.raises(preflight.PreflightError, match=r"^probe_budget= must be a number of seconds"):
            preflight.check(X, target=np.arange(40) % 2, probe_budget=budget)  # type: ignore[arg-type]


# --- no home, and a planted cache -------------------------------------------------------------------

NO_HOME = textwrap.dedent("""
    import os, pwd, sys
    for k in ("HOME", "XDG_CACHE_HOME", "PREFLIGHT_CACHE_DIR"):
        os.environ.pop(k, None)
    def nobody(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")
    pwd.getpwuid = nobody
    from preflight.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.slow  # a process of its own, which imports torch
def case_home_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _data(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME", "PREFLIGHT_CACHE_DIR")}
    env["PYTHONPATH"] = str(ROOT)
    p = subprocess.run([sys.executable, "-c", NO_HOME, "check", "--probe-budget", "0.3", "data.csv", "-o", "r.txt"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and p.stderr == "", p.stderr
    report = (tmp_path / "r.txt").read_text()
    assert "data.csv: PF101" in report and "    probe: " in report
    assert sorted(q.name for q in tmp_path.iterdir()) == ["data.csv", "r.txt"]  # no cache written anywhere here


@pytest.mark.slow
def case_home_unset_other_uid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uid = 4242
    if os.geteuid() != 0:
        pytest.skip("LOUD SKIP: not root, so no process can be started as a uid without a passwd entry")
    import pwd

    try:
        pwd.getpwuid(uid)
        pytest.skip(f"LOUD SKIP: uid {uid} has a passwd entry here")
    except KeyError:
        pass
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"preflight-uid-{os.getpid()}"
    work.mkdir(mode=0o755, exist_ok=True)
    try:
        _data(work)
        os.chmod(work / "data.csv", 0o644)
        env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME", "PREFLIGHT_CACHE_DIR")}
        env["PYTHONPATH"] = str(ROOT)
        run = dict(cwd=work, env=env, capture_output=True, text=True, timeout=300, user=uid, group=uid)
        try:
            probe = subprocess.run([sys.executable, "-c", "import preflight, torch"], **run)  # type: ignore[call-overload]
        except PermissionError as exc:
            pytest.skip(f"LOUD SKIP: uid {uid} cannot run {sys.executable} ({exc.strerror}); install Python where "
                        "every user can read it to run this case")
        if probe.returncode != 0:
            pytest.skip(f"LOUD SKIP: uid {uid} cannot import preflight and torch: {probe.stderr.strip()[-200:]}")
        p = subprocess.run([sys.executable, "-m", "preflight", "check", "--probe-budget", "0.3", "data.csv"],
                           **run)  # type: ignore[call-overload]
        assert p.returncode == 1 and p.stderr == "", p.stderr
        assert "    probe: " in p.stdout
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def case_cache_entry_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = _probe_args(tmp_path, monkeypatch)
    _data(tmp_path)
    first = run_cli(["check", *args, "data.csv"], cwd=tmp_path)
    entries = sorted((tmp_path / "cache").rglob("*.json"))
    assert first.code == 1 and entries
    for entry in entries:
        entry.unlink()
        entry.symlink_to("/dev/zero")
    again = run_cli(["check", *args, "data.csv"], cwd=tmp_path)
    assert again.code == 1 and again.stderr == ""
    assert all(e.is_file() and not e.is_symlink() for e in entries)  # replaced by real entries
    # the same verdicts (the words around timing aside)
    heads = [[ln.split(":")[0] for ln in r.stdout.splitlines()] for r in (first, again)]
    assert heads[0] == heads[1]


def case_cache_entry_fifo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from preflight.probes import cache

    key = "ab" + "0" * 62
    entry = tmp_path / "c" / cache.SUBDIR / "ab" / f"{key}.json"
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)
    done: list[object] = []
    t = threading.Thread(target=lambda: done.append(cache.get(key, str(tmp_path / "c"))), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive() and done == [None]  # a miss at once, not a read that waits for a writer
    assert cache.put(key, {"steps": 1}, str(tmp_path / "c"))
    assert stat.S_ISREG(os.lstat(entry).st_mode) and cache.get(key, str(tmp_path / "c")) == {"steps": 1}
    big = tmp_path / "c" / cache.SUBDIR / "ab" / f"ab{'1' * 62}.json"
    big.write_bytes(b" " * (cache.MAX_ENTRY_BYTES + 1))
    assert cache.get(f"ab{'1' * 62}", str(tmp_path / "c")) is None


# --- suppressions -----------------------------------------------------------------------------------

SUPPRESSED = """\
import torch, torch.nn as nn
a = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore [PF999]
b = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore[PF999
c = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignored-by-mistake
d = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore[PF999]
e = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore[PF301]
f = nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore
"""


def _suppression_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Result, Result]:
    (tmp_path / "train.py").write_text(SUPPRESSED)
    (tmp_path / "other.py").write_text("import torch\nl = torch.nn.BCELoss()(torch.sigmoid(z), y)\n")
    args = _probe_args(tmp_path, monkeypatch)
    return (run_cli(["check", "--no-probe", "train.py", "other.py"], cwd=tmp_path),
            run_cli(["check", *args, "--format", "json", "train.py", "other.py"], cwd=tmp_path))


def case_suppression_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, as_json = _suppression_run(tmp_path, monkeypatch)
    assert text.code == 1 and as_json.code == 1
    found = json.loads(as_json.stdout)["findings"]
    assert sorted((f["path"], f["line"]) for f in found if f["code"] == "PF301") == [
        ("other.py", 2), ("train.py", 2), ("train.py", 3), ("train.py", 4), ("train.py", 5)]
    for line, comment in ((2, "# preflight: ignore [PF999]"), (3, "# preflight: ignore[PF999"),
                          (4, "# preflight: ignored-by-mistake")):
        assert (f"train.py: note: line {line}: {comment!r} is not a suppression preflight reads, and silences "
                "nothing; write '# preflight: ignore[PF101]'") in text.stdout


def case_suppression_unknown_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, as_json = _suppression_run(tmp_path, monkeypatch)
    assert "train.py: note: line 5: '# preflight: ignore[PF999]' names no rule" in text.stdout
    notes = next(s for s in json.loads(as_json.stdout)["summary"]["files"] if s["path"] == "train.py")["notes"]
    assert len(notes) == 4  # three malformed, one unknown; lines 6 and 7 are good suppressions
    assert "train.py:6:" not in text.stdout and "train.py:7:" not in text.stdout


def case_suppression_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# notes"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["import torch\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["x = 1\n", "l = torch.nn.BCELoss()(torch.sigmoid(z), y)  # preflight: ignore [PF301]\n"]}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    r = run_cli(["check", "--no-probe", "nb.ipynb"], cwd=tmp_path)
    assert r.code == 1
    assert "nb.ipynb: note: cell 3, line 2: '# preflight: ignore [PF301]' is not a suppression" in r.stdout
    assert "nb.ipynb:cell 3:line 2: PF301" in r.stdout


# --- the probe never hides a finding by failing -------------------------------------------------------

def _probe_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 400
    huge = rng.uniform(1e307, 1.7e308, n)
    lines = ["a,b,label"] + [f"{float(huge[i])!r},{rng.normal()},{i % 2}" for i in range(n)]
    (tmp_path / "huge.csv").write_text("\n".join(lines) + "\n")
    signal = rng.normal(size=n)
    a = signal * 1000 + rng.normal(size=n)
    lines = ["a,b,target"] + [f"{a[i]},{rng.normal()},{signal[i] > 0}" for i in range(n)]
    (tmp_path / "bool.csv").write_text("\n".join(lines) + "\n")
    lines = ["a,b,label"] + [f"{rng.normal() * 1000},{rng.normal()},c{i}" for i in range(50_000)]
    (tmp_path / "many.csv").write_text("\n".join(lines) + "\n")


_PROBE_RUN: dict[str, tuple[Result, list[str], dict[str, list], Path]] = {}


def _probe_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Result, list[str], dict[str, list], Path]:
    """One probe run over the three files (its folder kept): the three probe cases read its results."""
    if "run" not in _PROBE_RUN:
        _probe_files(tmp_path)
        args = _probe_args(tmp_path, monkeypatch)
        r, caught = _quiet_cli(["check", *args, "--format", "json", "huge.csv", "bool.csv", "many.csv"],
                               cwd=tmp_path)
        by_file: dict[str, list] = {}
        for f in json.loads(r.stdout)["findings"]:
            by_file.setdefault(f["path"], []).append(f)
        _PROBE_RUN["run"] = (r, caught, by_file, tmp_path)
    return _PROBE_RUN["run"]


def case_probe_huge_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r, caught, by_file, folder = _probe_json(tmp_path, monkeypatch)
    assert r.code == 1 and not caught, caught
    off = json.loads(run_cli(["check", "--no-probe", "--format", "json", "huge.csv"], cwd=folder).stdout)
    assert [(f["code"], f["severity"]) for f in by_file["huge.csv"]] == [
        (f["code"], f["severity"]) for f in off["findings"]] == [("PF101", "warning"), ("PF102", "warning")]
    for f in by_file["huge.csv"]:
        assert f["probe"]["verdict"] == "skipped"
        assert "not finite in float32" in f["probe"]["reason"]


def case_probe_bool_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, caught, by_file, _ = _probe_json(tmp_path, monkeypatch)
    assert not caught
    verdicts = {f["code"]: f["probe"] for f in by_file["bool.csv"]}
    assert "PF101" in verdicts
    assert all("single class" not in p.get("reason", "") for p in verdicts.values())
    assert verdicts["PF101"]["verdict"] in ("confirmed", "not_reproduced")  # trained on two classes


def case_probe_many_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, caught, by_file, _ = _probe_json(tmp_path, monkeypatch)
    assert not caught
    for f in by_file["many.csv"]:
        assert f["severity"] == "warning" and f["probe"]["verdict"] == "skipped"
        assert f["probe"]["reason"].startswith("the target has more than 256 distinct values")


@pytest.mark.slow
def case_probe_stderr_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _probe_files(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-m", "preflight", "check", "--probe-budget", "0.3", "huge.csv", "bool.csv",
                        "many.csv"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and p.stderr == "", p.stderr
    assert p.stdout.count("probe: skipped: the fixed variant's features are not finite") == 2


# --- syntax newer than this Python ---------------------------------------------------------------------

def case_py312_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "alias.py").write_text("import torch\ntype Vector = list[float]\n")
    (tmp_path / "generic.py").write_text("import torch\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    (tmp_path / "train.py").write_text("import torch\nl = torch.nn.BCELoss()(torch.sigmoid(z), y)\n")
    r = run_cli(["check", "--no-probe", "alias.py", "generic.py", "train.py"], cwd=tmp_path)
    assert "train.py:2:" in r.stdout  # the good file was checked
    if sys.version_info >= (3, 12):
        assert r.code == 1 and r.stderr == ""
        return
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert r.code == 2
    assert r.stderr.splitlines() == [
        f"error: alias.py:2: uses Python 3.12 syntax (a 'type' alias statement, PEP 695), which this Python "
        f"({running}) cannot parse: run preflight with Python 3.12 or newer to check it, or exclude the file",
        f"error: generic.py:3: uses Python 3.12 syntax (a type parameter list, PEP 695), which this Python "
        f"({running}) cannot parse: run preflight with Python 3.12 or newer to check it, or exclude the file"]


def case_syntax_error_wording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n    pass\n")
    r = run_cli(["check", "--no-probe", "broken.py"], cwd=tmp_path)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert r.code == 2
    assert r.stderr == (f"error: broken.py:2: syntax error: invalid syntax, as Python {running} parses it (the file "
                        "may use syntax newer than this Python); fix it, check it with the Python it is written for, "
                        "or exclude the file\n")
    assert "fix it (or exclude the file) to have it checked" not in r.stderr


# --- the cases, run -------------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    name.removeprefix("case_").replace("_", "-"): fn for name, fn in list(globals().items())
    if name.startswith("case_") and callable(fn)}
SLOW = {case for case, fn in RUNNERS.items() if any(m.name == "slow" for m in getattr(fn, "pytestmark", []))}


def test_every_case_has_a_runner_and_every_runner_a_case() -> None:
    assert sorted(RUNNERS) == sorted(CASES)


def _readme_rows() -> dict[str, str]:
    """case -> expected, from this module's table in ``tests/hostile/README.md`` (under the heading
    ``## tests/test_hostile_outputs.py``)."""
    text = (ROOT / "tests" / "hostile" / "README.md").read_text(encoding="utf-8")
    section = text.split("## tests/test_hostile_outputs.py", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]  # a cell's own '|' is written '\|'
        if len(cells) == 6 and cells[1].startswith("`"):
            rows[cells[1].strip("`")] = cells[4].replace("\\|", "|")
    return rows


def test_readme_table_matches_cases() -> None:
    assert _readme_rows() == CASES


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES])
def test_case(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    RUNNERS[case](tmp_path, monkeypatch)


# --- the property: any name, any format -----------------------------------------------------------------

NASTY = [*"\n\r\t\x1b\x07\x00\x7f\x9b\x85\u202e\u2066\u2028\u3000 :,%[]*?{}!\\'\"", "::", "::error ", "\x1b]8;;"]
NAME = st.lists(st.sampled_from(NASTY) | st.characters(codec="utf-8", exclude_characters="/\x00"),
                min_size=1, max_size=12).map("".join)
FILE_NAME = NAME.map(lambda s: s.replace("\x00", "0"))  # a file name holds anything but NUL and '/'



@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=NAME, file=FILE_NAME, fmt=st.sampled_from(["text", "json", "sarif", "github", "html"]),
       broken=st.booleans())
@example(column="x\n::error file=a::b", file="-\n::warning ::x", fmt="text", broken=False)
def test_no_name_writes_a_command_or_an_escape(tmp_path: Path, column: str, file: str, fmt: str, broken: bool) -> None:
    assume(column != "label" and file not in (".", "..") and len(file.encode()) < 200)
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    name = file + (".csv" if broken else ".parquet")
    if broken:
        (base / name).write_bytes(b"\x00\xff\x00 junk")
    else:
        _scaled_frame(column).write_parquet(base / name)
    _scaled_frame("plain").write_parquet(base / "plain.parquet")
    # "--": a generated name may begin with "-" (an option to any command line; users write ./-x.csv)
    r = run_cli(["check", "--no-probe", "--format", fmt, "--", name, "plain.parquet"], cwd=base)
    assert r.code in (1, 2)
    _assert_run_safe(r, fmt)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(NASTY) | st.characters(), max_size=30).map("".join))
def test_printable_is_one_safe_line_and_idempotent(text: str) -> None:
    from preflight.printable import printable, printable_text

    once = printable(text)
    assert printable(once) == once and printable_text(once) == once
    assert "\n" not in once and not RAW_UNSAFE.search(once) and not once.lstrip().startswith("::")
    flat = text.replace("\n", "").replace("\t", "")
    assert printable(flat) == printable_text(flat)  # the two differ only on the writer's newlines and tabs
    for line in printable_text(text).split("\n"):
        assert not RAW_UNSAFE.search(line) and not line.lstrip().startswith("::")
    plain = "".join(c for c in text if c.isprintable() and c not in "\u061c\u200e\u200f" and not c.isspace())
    assert printable(plain.lstrip(":")) == plain.lstrip(":")  # printable text is left as it is
