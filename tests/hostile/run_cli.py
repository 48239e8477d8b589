"""Run ``preflight`` once per case inside one interpreter, as the console script would, and record
each case's exit code, stdout and stderr at the file-descriptor level.

Starting Python and importing polars costs ~0.5 s per process; the hostile corpus has 60 cases.
This runner pays it once. Output is captured with ``os.dup2`` on fds 1 and 2, so what native code
(polars' Rust, numpy's C) writes there is caught too, and each case gets ``signal.alarm`` seconds
before it counts as a hang.

    python tests/hostile/run_cli.py CASES.json RESULTS.json
    CASES.json: [{"name": ..., "cwd": ..., "argv": ["check", "--no-probe", "x.csv"]}, ...]
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import traceback

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


def main() -> None:
    signal.signal(signal.SIGALRM, _alarm)
    with open(sys.argv[1]) as fh:
        cases = json.load(fh)
    results = {c["name"]: run_one(c["argv"], c["cwd"]) for c in cases}
    with open(sys.argv[2], "w") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
