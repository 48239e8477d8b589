"""The pre-commit hooks, run by the real `pre-commit` tool on real git repositories.

pre-commit clones the hook repository at a commit, so the project's working tree is copied into a
temporary repository and committed there first: this tests the files as they are, not the last
commit. The `preflight` hook (language: python, the core without torch, `--no-probe`) and the
`preflight-probe` hook (the same core, with the probe NumPy trains) share one virtualenv pip builds once; a user
repository's .pre-commit-config.yaml names the copy and its commit, as a user's names GitHub and a
tag, and `pre-commit run` reuses the environment from PRE_COMMIT_HOME (a temporary directory here:
nothing touches the user's cache). `pre-commit try-repo` builds a fresh store every time, so it is
used for the `preflight-system` hook, which installs nothing. PIP_CONSTRAINT pins torch to the
local CPU build so that pip never fetches the CUDA wheels.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_checkout, finds_torch, tree_bytes

pytestmark = pytest.mark.slow

PRE_COMMIT = shutil.which("pre-commit")
# Sorted by label, and the reference probe confirms it costs training (the catalog's bad.csv is
# flagged too, but its probe finds no clear gap, so it drops to info and would pass a commit).
BAD = ROOT / "examples" / "sorted_by_label.csv"
GOOD = ROOT / "rules" / "PF201-label-sorted-rows" / "good.csv"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.email=test@preflight.invalid", "-c", "user.name=test",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> dict:
    if PRE_COMMIT is None:
        pytest.fail("pre-commit is not installed (pip install pre-commit): the hook tests cannot run")
    base = tmp_path_factory.mktemp("precommit")
    project = copy_checkout(base / "project")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "working tree", cwd=project)
    constraints = base / "constraints.txt"
    import torch

    constraints.write_text(f"torch=={torch.__version__.split('+')[0]}\n", encoding="utf-8")
    shim = base / "bin"
    shim.mkdir()
    (shim / "preflight").write_text(f'#!/bin/sh\nPYTHONPATH="{project}" exec "{sys.executable}" -m preflight "$@"\n')
    (shim / "preflight").chmod(0o755)
    env = {**os.environ, "PRE_COMMIT_HOME": str(base / "home"), "PIP_CONSTRAINT": str(constraints),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PRE_COMMIT_COLOR": "never",
           "PREFLIGHT_CACHE_DIR": str(base / "probe-cache")}
    env.pop("PYTHONPATH", None)
    return {"base": base, "project": project, "env": env, "shim": shim}


def user_repo(base: Path, name: str, files: dict[str, Path | str]) -> Path:
    repo = base / name
    repo.mkdir()
    git("init", "-q", cwd=repo)
    for rel, content in files.items():
        if isinstance(content, Path):
            shutil.copy2(content, repo / rel)
        else:
            (repo / rel).write_text(content, encoding="utf-8")
    git("add", "-A", cwd=repo)
    return repo


def try_repo(hook_env: dict, repo: Path, hook: str, *files: str, path_prefix: Path | None = None):
    env = dict(hook_env["env"])
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    start = time.perf_counter()
    proc = subprocess.run([PRE_COMMIT, "try-repo", str(hook_env["project"]), hook, "--files", *files],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=1500)
    return proc, time.perf_counter() - start


def run_hook(hook_env: dict, repo: Path, hook: str, *files: str):
    """`pre-commit run HOOK --files ...` in a repository whose config names the project copy."""
    sha = git("rev-parse", "HEAD", cwd=hook_env["project"]).strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_env['project']}\n  rev: {sha}\n  hooks:\n  - id: {hook}\n", encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run([PRE_COMMIT, "run", hook, "--files", *files], cwd=repo, env=hook_env["env"],
                          capture_output=True, text=True, timeout=1500)
    return proc, time.perf_counter() - start


def hook_envs(hook_env: dict) -> set[Path]:
    """The virtualenvs pre-commit has built in this test's PRE_COMMIT_HOME."""
    return set((hook_env["base"] / "home").glob("repo*/py_env-*"))


def first_run(hook_env: dict, repo: Path, hook: str, *files: str
              ) -> tuple[subprocess.CompletedProcess, str, Path, float]:
    """The hook's first run: (process, its output, the one virtualenv it built, seconds including the build)."""
    before = hook_envs(hook_env)
    proc, seconds = run_hook(hook_env, repo, hook, *files)
    # the python hooks of one repository share one virtualenv: the first of them builds it
    (env,) = (hook_envs(hook_env) - before) or hook_envs(hook_env)
    return proc, proc.stdout + proc.stderr, env, seconds


def first_run_fails_on_bad_csv(hook_env: dict, name: str, hook: str, banner: str, files: dict[str, Path | str]
                               ) -> tuple[Path, str, Path]:
    """The hook's first run on a repository with the label-sorted ``bad.csv``: it fails on PF201 and
    prints what building its environment cost. (repo, output, the hook's virtualenv)"""
    repo = user_repo(hook_env["base"], name, files)
    proc, out, env, first = first_run(hook_env, repo, hook, "bad.csv")
    print(f"\nfirst run of the `{hook}` hook, including its environment install: {first:.1f} s; "
          f"environment {tree_bytes(env) / 1e6:.0f} MB")
    assert proc.returncode == 1, out
    assert f"{banner}....." in out and "Failed" in out
    assert "bad.csv: PF201 label-sorted-rows [label] 2 runs of equal labels" in out
    return repo, out, env


def test_python_hook_is_the_light_core_without_the_probe(hook_env: dict) -> None:
    repo, out, env = first_run_fails_on_bad_csv(hook_env, "user", "preflight", "preflight",
                                                {"bad.csv": BAD, "good.csv": GOOD})
    assert "fix: shuffle the rows" not in out  # the concise output: fixes with --show-fixes or -v
    assert "probe:" not in out  # the hook runs `preflight check --no-probe`
    assert not finds_torch(env)  # the core installs no torch

    proc, again = run_hook(hook_env, repo, "preflight", "good.csv")
    out = proc.stdout + proc.stderr
    print(f"\nsecond run (environment reused): {again:.1f} s")
    assert proc.returncode == 0, out
    assert "Passed" in out and "PF2" not in out


def test_probe_hook_trains_the_probe_without_torch(hook_env: dict) -> None:
    _, out, env = first_run_fails_on_bad_csv(hook_env, "probed", "preflight-probe", "preflight (probe)",
                                             {"bad.csv": BAD})
    assert re.search(r"probe: (probe )?confirmed", out)  # the NumPy trainer trained it
    assert not finds_torch(env)


def test_repository_config_applies_to_the_hook(hook_env: dict) -> None:
    repo = user_repo(hook_env["base"], "configured", {
        "bad.csv": BAD, "pyproject.toml": '[tool.preflight]\nignore = ["PF201"]\n'})
    proc, _ = run_hook(hook_env, repo, "preflight", "bad.csv")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "PF201" not in out and "Passed" in out
    assert "Installing environment" not in out  # the environment from the first test is reused


def test_system_hook_runs_the_preflight_on_path(hook_env: dict) -> None:
    repo = user_repo(hook_env["base"], "system", {"bad.csv": BAD, "good.csv": GOOD})
    proc, seconds = try_repo(hook_env, repo, "preflight-system", "bad.csv", path_prefix=hook_env["shim"])
    out = proc.stdout + proc.stderr
    print(f"\nfirst run of the `preflight-system` hook (try-repo, nothing to install): {seconds:.1f} s")
    assert proc.returncode == 1, out
    assert "bad.csv: PF201 label-sorted-rows" in out
    proc, _ = try_repo(hook_env, repo, "preflight-system", "good.csv", path_prefix=hook_env["shim"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_staged_python_files_reach_preflight(hook_env: dict) -> None:
    repo = user_repo(hook_env["base"], "python", {"train.py": "import torch\nx = torch.zeros(3)\n"})
    proc, _ = try_repo(hook_env, repo, "preflight-system", "train.py", path_prefix=hook_env["shim"])
    out = proc.stdout + proc.stderr
    assert "preflight (system)" in out and "no files to check" not in out.lower()
    assert proc.returncode == 0, out


def test_unstaged_other_files_are_not_passed(hook_env: dict) -> None:
    repo = user_repo(hook_env["base"], "other", {"notes.txt": "hello\n"})
    proc, _ = try_repo(hook_env, repo, "preflight-system", "notes.txt", path_prefix=hook_env["shim"])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "(no files to check)Skipped" in out


def test_fix_hook_rewrites_the_staged_file_and_fails_so_it_is_restaged(hook_env: dict) -> None:
    """`preflight-fix` (the core's environment, reused) applies the safe fix to a staged .py file;
    pre-commit fails the hook because a file changed, and a second run passes."""
    bad = ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py"
    repo = user_repo(hook_env["base"], "fixing", {"train.py": bad})
    proc, _ = run_hook(hook_env, repo, "preflight-fix", "train.py")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "files were modified by this hook" in out
    assert (repo / "train.py").read_text() == (bad.parent / "fixed.py").read_text()
    git("add", "-A", cwd=repo)
    proc, _ = run_hook(hook_env, repo, "preflight-fix", "train.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
