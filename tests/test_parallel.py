"""Several ``preflight check`` processes over the same files at once finish with identical output,
and share the probe cache (``PREFLIGHT_CACHE_DIR``) without corrupting it. The cache tests fail, not
skip, when the heart-rate finding carries no probe evidence: the probe is part of the package, so a
broken probe is a defect these tests must report."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # each test spawns several `preflight check` processes; two train the probe


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PREFLIGHT_CACHE_DIR=str(cache))
    env.pop("PREFLIGHT_DEBUG", None)
    return env


def _check(args: list[str], cwd: Path, cache: Path, timeout: int = 300) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "preflight", "check", *args], cwd=cwd, env=_env(cache),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


VOLATILE = {"seconds", "cached"}  # wall time, and whether this run found the evidence in the cache


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _without_timing(stdout: str) -> str:
    return json.dumps(_strip(json.loads(stdout)), sort_keys=True)


@pytest.fixture
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(ROOT / "examples", d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (d / "empty.csv").write_text("")  # one unreadable file among them: its error line must be stable too
    return d


def test_parallel_runs_give_identical_output(data, tmp_path):
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        text = list(pool.map(lambda _: _check(["--no-probe", "."], data, cache), range(4)))
        js = list(pool.map(lambda _: _check(["--no-probe", "--format", "json", "."], data, cache), range(4)))
    assert text[0][0] == 2 and "empty.csv: is empty" in text[0][2]
    assert "PF101" in text[0][1] and "PF201" in text[0][1]
    assert all(t == text[0] for t in text)
    assert len({(rc, _without_timing(out), err) for rc, out, err in js}) == 1


def _assert_probe_evidence(rc: int, out: str, err: str) -> None:
    """The heart-rate finding carries probe evidence; otherwise the cache tests below test nothing."""
    assert rc in (0, 1), err
    findings = json.loads(out)["findings"]
    assert findings and all(f.get("probe") for f in findings), (
        f"the probe attached no evidence to {[f['code'] for f in findings]}: the probe is broken; stderr: {err}")


def listing(folder: Path) -> list[tuple[str, int]]:
    """Every path under ``folder`` with its size: what a run must leave exactly as it found it."""
    return sorted((p.relative_to(folder).as_posix(), p.stat().st_size if p.is_file() else -1)
                  for p in folder.rglob("*"))


def test_parallel_probe_runs_share_an_intact_cache(data, tmp_path):
    cache = tmp_path / "cache"
    before = listing(data)
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: _check(["--format", "json", "heart_rate.csv"], data, cache), range(3)))
    _assert_probe_evidence(*runs[0])
    assert len({(rc, _without_timing(out), err) for rc, out, err in runs}) == 1
    assert any(cache.rglob("*")), f"PREFLIGHT_CACHE_DIR={cache} holds nothing after probe runs"
    again = _check(["--format", "json", "heart_rate.csv"], data, cache)  # read back from the cache
    assert (again[0], _without_timing(again[1]), again[2]) == (runs[0][0], _without_timing(runs[0][1]), runs[0][2])
    assert listing(data) == before, "nothing (a cache, a temporary file) may be written beside the inputs"
    assert [f["probe"]["cached"] for f in json.loads(again[1])["findings"]] == [True], "not read from the cache"
    for entry in cache.rglob("*.json"):  # every entry is whole JSON (no torn writes), no temp files left
        json.loads(entry.read_text())
    assert not [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".json"], "temp files left in the cache"


def test_a_run_killed_mid_write_leaves_the_cache_readable(data, tmp_path):
    cache = tmp_path / "cache"
    clean = _check(["--format", "json", "heart_rate.csv"], data, tmp_path / "clean-cache")
    _assert_probe_evidence(*clean)
    for delay in (0.3, 0.8, 1.5, 3.0):  # kill at several points of the probe and its cache write
        p = subprocess.Popen([sys.executable, "-m", "preflight", "check", "--format", "json", "heart_rate.csv"],
                             cwd=data, env=_env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    after = _check(["--format", "json", "heart_rate.csv"], data, cache)
    assert after[0] == clean[0] and after[2] == clean[2] == ""
    assert _without_timing(after[1]) == _without_timing(clean[1])
    for entry in cache.rglob("*.json"):  # a killed writer leaves no torn entry behind
        json.loads(entry.read_text())
