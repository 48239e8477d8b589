"""Run ``preflight`` once per case inside one interpreter, as the console script would, and record
each case's exit code, stdout and stderr at the file-descriptor level.

Starting Python and importing polars costs ~0.5 s per process; the hostile corpus has 60 cases.
This runner pays it once. Output is captured with ``os.dup2`` on fds 1 and 2, so what native code
(polars' Rust, numpy's C) writes there is caught too, and each case gets ``signal.alarm`` seconds
before it counts as a hang.

    python tests/hostile/run_cli.py CASES.json RESULTS.json
    CASES.json: [{"name": ..., "cwd": ..., "argv": ["check", "--no-probe", "x.csv"]}, ...]

Imported (``tests.hostile.run_cli``), it also gives the tests what they need around a run:
``unprivileged()`` (how to run the runner as a user file permissions hold for, when the tests run
as root), and ``entries`` / ``snapshot`` / ``remove_tree``, which walk a corpus without recursion
(it holds a folder nested 1,100 deep, deeper than ``os.walk`` and ``shutil.rmtree`` go in 3.11).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

TIMEOUT = 60


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run_one(argv: list[str], cwd: str) -> dict:
    from preflight.cli import main

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved = os.dup(1), os.dup(2)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        code: object = 0
        note = ""
        here = os.getcwd()
        try:
            os.chdir(cwd)
            signal.alarm(TIMEOUT)
            try:
                main(argv, prog_name="preflight")
            except SystemExit as exc:
                code = exc.code if exc.code is not None else 0
            except Hang:
                code, note = "timeout", f"timed out after {TIMEOUT} s"
            except BaseException:  # what the console script would have printed as a traceback
                code, note = "crash", traceback.format_exc()
            finally:
                signal.alarm(0)
        finally:
            os.chdir(here)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        out.seek(0)
        err.seek(0)
        return {"rc": code, "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace") + note}


# --- running as a user whom file permissions bind ------------------------------------------------

NOBODY = 65534
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
PR_CAPBSET_DROP = 24


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _without_dac_capabilities() -> None:
    """Stay uid 0 but drop the two capabilities that let root read and list what its mode forbids."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def unprivileged(env: dict[str, str]) -> tuple[Callable[[], None] | None, str]:
    """(a ``preexec_fn`` for ``subprocess``, what it runs as) such that a child cannot read a file of
    mode 000: nothing when not root; as root, uid 65534 when this interpreter and the code are
    reachable by it, else root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. Raises ``OSError``
    (the caller skips, loudly) when neither is possible here."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, f"uid {os.getuid() if hasattr(os, 'getuid') else '?'} (not root)"
    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        Path(tmp).chmod(0o755)
        probe = (f"import preflight.cli\ntry:\n    open({str(locked)!r})\nexcept PermissionError:\n"
                 "    raise SystemExit(0)\nraise SystemExit(3)")
        for preexec, what in ((_as_nobody, f"uid {NOBODY}"),
                              (_without_dac_capabilities, "uid 0 without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH")):
            try:
                r = subprocess.run([sys.executable, "-c", probe], env=env, cwd="/", preexec_fn=preexec,
                                   capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError):
                continue
            if r.returncode == 0:
                return preexec, what
    raise OSError("running as root, and neither another uid (the interpreter is not reachable by it) nor "
                  "dropping CAP_DAC_OVERRIDE works here")


# --- walking a corpus without recursion ----------------------------------------------------------

def entries(root: Path) -> Iterator[Path]:
    """Every entry under ``root`` (not ``root`` itself), depth first, symlinks not followed; a folder
    that cannot be listed is yielded and not entered."""
    stack = [Path(root)]
    while stack:
        folder = stack.pop()
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            p = folder / name
            yield p
            if stat.S_ISDIR(os.lstat(p).st_mode):
                stack.append(p)


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root -> its kind and, for a readable regular file, its mode and SHA-256."""
    out: dict[str, str] = {}
    for p in entries(root):
        st = os.lstat(p)
        rel = p.relative_to(root).as_posix()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = "link->" + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode)
            try:
                out[rel] = f"file mode {mode:o} " + hashlib.sha256(p.read_bytes()).hexdigest()
            except PermissionError:
                out[rel] = f"file mode {mode:o} size {st.st_size}"
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = f"dir mode {stat.S_IMODE(st.st_mode):o}"
        else:
            out[rel] = f"special {stat.S_IFMT(st.st_mode):o}"  # a FIFO: never opened here
    return out


def remove_tree(root: Path) -> None:
    """``shutil.rmtree`` without recursion, giving back on the way the permissions a case took."""
    root = Path(root)
    if not root.exists():
        return
    found: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        os.chmod(folder, 0o700)
        for name in os.listdir(folder):
            p = folder / name
            found.append(p)
            if stat.S_ISDIR(os.lstat(p).st_mode):
                stack.append(p)
    for p in sorted(found, key=lambda q: -len(q.parts)):
        if stat.S_ISDIR(os.lstat(p).st_mode):
            os.rmdir(p)
        else:
            os.unlink(p)
    os.rmdir(root)


def main() -> None:
    signal.signal(signal.SIGALRM, _alarm)
    with open(sys.argv[1]) as fh:
        cases = json.load(fh)
    results = {c["name"]: run_one(c["argv"], c["cwd"]) for c in cases}
    with open(sys.argv[2], "w") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
