"""Installing preflight as a user does, and the core without torch.

The README's commands are the ones run: the install lines of its Install section (with the wheel built
here in place of the distribution name) into fresh virtual environments, then the demo command of its
first line on the shipped examples; CI (.ci/run) runs the installs of that first line as written.
Without torch (made unimportable in a subprocess, as it is absent from the core install) a check keeps
its findings and says the probe did not run and how to get it; ``preflight probe`` exits 2.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.probes.settings import TORCH_INSTALL, TORCH_MISSING
from preflight.version import DISTRIBUTION, __version__
from tests.conftest import ROOT, copy_checkout, finds_torch, tree_bytes, venv_bin

README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_block(after: str) -> list[str]:
    """The lines of the first ```bash block after the text ``after`` in the README."""
    start = README.index("```bash\n", README.index(after)) + len("```bash\n")
    return README[start:README.index("```", start)].strip().splitlines()


def first_command() -> list[str]:
    """The README's first line, split at ``&&``: its installs, then the demo check."""
    return [part.strip() for part in bash_block("# preflight")[0].split("&&")]


def demo_command() -> list[str]:
    (demo,) = [c for c in first_command() if c.startswith("preflight check")]
    return shlex.split(demo)


def user_installs() -> dict[str, list[str]]:
    """The Install section's lines: 'core' and 'probe' -> pip's arguments (comments dropped)."""
    lines = [shlex.split(line, comments=True) for line in bash_block("## Install")]
    installs = {("probe" if "[probe]" in argv[-1] else "core"): argv for argv in lines}
    assert set(installs) == {"core", "probe"}, lines
    return installs


# --- the README's commands -----------------------------------------------------------------------

def test_readme_names_the_distribution_and_its_two_user_installs():
    installs = user_installs()
    assert installs["core"] == ["pip", "install", DISTRIBUTION]
    assert installs["probe"] == ["pip", "install", f"{DISTRIBUTION}[probe]"]
    assert f"pip install {DISTRIBUTION}" in README and "pip install preflight" not in README
    assert TORCH_INSTALL in README  # the line a torch-less check prints is the one documented


def test_readme_first_command_is_what_ci_installs():
    """.ci/run runs each `pip install` of the README's first line as written (quiet, through python -m)."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installs = [c for c in first_command() if c.startswith("pip install ")]
    assert len(installs) == 2 and "[probe," in installs[1]
    for command in installs:
        assert f"python -m pip install --quiet {command.removeprefix('pip install ')}\n" in ci, command
    assert demo_command()[:3] == ["preflight", "check", "--exit-zero"]


def test_documented_rev_is_the_version_and_has_a_release_note():
    tag = f"v{__version__}"
    for doc in ("README.md", "docs/pre-commit.md", ".pre-commit-hooks.yaml"):
        revs = re.findall(r"rev: ([\w.]+)", (ROOT / doc).read_text(encoding="utf-8"))
        assert revs and set(revs) == {tag}, (doc, revs)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nname = "{DISTRIBUTION}"\nversion = "{__version__}"\n' in pyproject
    assert f"\n## {__version__} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


# --- without torch --------------------------------------------------------------------------------

NO_TORCH = """
import sys
sys.modules["torch"] = None  # `import torch` raises ImportError, as where torch is not installed
from preflight.cli import main
code = 0
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
print("@@" + str(code) + " " + str(sys.modules["torch"] is None))
"""


def run_without_torch(args: list[str], tmp_path: Path, program: str = NO_TORCH,
                      cwd: Path = ROOT) -> tuple[int, str, str]:
    """The CLI in a subprocess where torch cannot be imported: (exit code, output, stderr)."""
    env = dict(os.environ, PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))  # no cached probe to lean on
    proc = subprocess.run([sys.executable, "-c", program.format(args=args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)
    assert "@@" in proc.stdout, proc.stderr
    out, _, tail = proc.stdout.rpartition("@@")
    code, still_none = tail.split()
    assert still_none == "True"  # nothing replaced the blocked module (torch was never imported)
    return int(code), out, proc.stderr


def torch_trainer_config(tmp_path: Path) -> Path:
    """A config that asks for the torch trainer (``trainer = "torch"``), in its own folder."""
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text('[tool.preflight.probe]\ntrainer = "torch"\n', encoding="utf-8")
    return path


def test_check_of_a_csv_without_torch_trains_the_probe_with_numpy(tmp_path):
    """The default trainer on the CPU is NumPy's: the core install measures the gap itself."""
    code, out, err = run_without_torch(["check", "examples/heart_rate.csv"], tmp_path)
    assert code == 1, out + err
    assert "examples/heart_rate.csv: PF101 unnormalized-feature [heart_rate] mean 91.42" in out
    assert "    probe: confirmed, best held-out BCE 0.656 -> 0.107\n" in out
    assert "torch" not in out and err == ""


def test_check_of_a_csv_without_torch_with_the_torch_trainer_keeps_the_finding_and_gives_the_reason(tmp_path):
    import json

    code, out, _ = run_without_torch(["check", "--format", "json", "examples/sorted_by_label.csv"], tmp_path)
    finding = json.loads(out)["findings"][0]
    assert (code, finding["code"], finding["severity"]) == (1, "PF201", "warning")
    assert (finding["probe"]["verdict"], finding["probe"]["trainer"]) == ("confirmed", "numpy")
    config = torch_trainer_config(tmp_path)
    code, out, _ = run_without_torch(["check", "--format", "json", "--config", str(config),
                                      "examples/sorted_by_label.csv"], tmp_path)
    finding = json.loads(out)["findings"][0]
    assert (code, finding["code"], finding["severity"]) == (1, "PF201", "warning")  # it keeps its severity
    assert finding["probe"] == {"verdict": "skipped", "reason": TORCH_MISSING, "data": "user", "rule": "PF201",
                                "family": "order"}
    code, out, _ = run_without_torch(["check", "--config", str(config), "examples/heart_rate.csv"], tmp_path)
    assert f"    probe: skipped: {TORCH_MISSING}\n" in out and out.count(TORCH_MISSING) == 1, out


def test_static_check_without_torch_keeps_the_recorded_evidence(tmp_path):
    code, out, err = run_without_torch(["check", "--format", "json", "examples/softmax_classifier.py"], tmp_path)
    assert code == 1, out + err
    assert recorded_pf302(out)


def recorded_pf302(report_json: str) -> bool:
    """The JSON report of examples/softmax_classifier.py holds PF302 at line 29 with its recorded evidence."""
    import json

    (finding,) = json.loads(report_json)["findings"]
    probe = finding["probe"]
    return ((finding["code"], finding["line"], probe["verdict"], probe["data"]) == ("PF302", 29, "confirmed",
                                                                                    "reference"))


def test_no_probe_check_without_torch_has_no_probe_line(tmp_path):
    code, out, err = run_without_torch(["check", "--no-probe", "examples/heart_rate.csv"], tmp_path)
    assert code == 1 and err == ""
    assert "PF101 unnormalized-feature" in out and "probe:" not in out


def test_probe_command_without_torch_trains_with_numpy_and_the_torch_trainer_is_one_error_line(tmp_path):
    data = str(ROOT / "examples" / "heart_rate.csv")
    code, out, err = run_without_torch(["probe", data, "--rule", "PF101"], tmp_path)
    assert code == 0 and err == "" and " PF101 probe confirmed" in out, out + err
    config = torch_trainer_config(tmp_path)  # discovered from the folder the command runs in
    code, out, err = run_without_torch(["probe", data, "--rule", "PF101"], tmp_path, cwd=config.parent)
    assert code == 2 and out == ""
    assert err == f"error: the probe trains with torch, which is not installed: {TORCH_INSTALL}\n"


def test_a_torch_that_fails_to_import_skips_the_probe_with_its_error(tmp_path):
    """Installed but broken (a missing shared library): found, yet its import raises."""
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("libtorch_cpu.so: cannot open shared object file")\n')
    program = NO_TORCH.replace('sys.modules["torch"] = None  #', f"sys.path.insert(0, {str(fake.parent)!r})  #")
    program = program.replace('str(sys.modules["torch"] is None)', '"True"')
    code, out, _ = run_without_torch(["check", "examples/heart_rate.csv"], tmp_path, program)
    assert code == 1 and "    probe: confirmed," in out  # the NumPy trainer does not import torch
    code, out, _ = run_without_torch(["check", "--config", str(torch_trainer_config(tmp_path)),
                                      "examples/heart_rate.csv"], tmp_path, program)
    assert code == 1
    assert ("    probe: skipped: torch is installed but could not be imported (ImportError: libtorch_cpu.so: "
            "cannot open shared object file)\n") in out


def test_library_check_without_torch_skips_the_probe(tmp_path):
    import json

    program = ("import sys, json\nsys.modules['torch'] = None\nimport preflight\n"
               "for probe in ({}, {'trainer': 'torch'}):\n"
               "    r = preflight.check('examples/heart_rate.csv', config={'probe': probe})\n"
               "    print(json.dumps([(f.code, str(f.severity), f.probe.verdict, f.probe.reason if f.probe.skipped "
               "else f.probe.trainer) for f in r.findings]))\n")
    env = dict(os.environ, PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    numpy_run, torch_run = proc.stdout.splitlines()
    assert json.loads(numpy_run) == [["PF101", "warning", "confirmed", "numpy"]]
    assert json.loads(torch_run) == [["PF101", "warning", "skipped", TORCH_MISSING]]


def test_torch_problem_devices_and_announced_trainings_without_torch(monkeypatch):
    from preflight import config as cfg
    from preflight.checks import RULES_BY_CODE
    from preflight.inputs import read_path
    from preflight.inputs.options import ReadOptions
    from preflight.probes.run import probe_trains
    from preflight.probes.settings import ProbeSettings, device_problem, torch_problem

    subject = read_path(ROOT / "examples" / "heart_rate.csv", ReadOptions())
    rule = RULES_BY_CODE["PF101"]
    findings = list(rule.check(subject, cfg.load(None).options_for(rule)))
    assert torch_problem() is None  # the test environment has torch
    assert probe_trains(findings, subject) == 1
    monkeypatch.setitem(sys.modules, "torch", None)
    assert torch_problem() == TORCH_MISSING
    assert probe_trains(findings, subject) == 1  # the NumPy trainer needs no torch
    # with the torch trainer no progress line announces a training that will not run
    assert probe_trains(findings, subject, ProbeSettings(trainer="torch")) == 0
    # no device to judge without torch (the probe skips for torch's absence); __wrapped__: past the cache
    assert device_problem.__wrapped__("cuda:3") is None


# --- the built wheel in fresh virtual environments (slow: builds, creates venvs, installs) -------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of the working tree, built from a copy (nothing is written into the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    src = copy_checkout(base / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(base / "dist"), str(src)], check=True, capture_output=True, text=True, timeout=600)
    (built,) = (base / "dist").iterdir()
    assert built.name == f"{DISTRIBUTION.replace('-', '_')}-{__version__}-py3-none-any.whl"
    return built


def user_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def install(base: Path, name: str, readme_line: list[str], wheel: Path, constraint: Path | None = None) -> Path:
    """A fresh virtualenv ``base/name`` with the README's install line run in it, the wheel in place of
    the distribution's name (``pytorch-preflight[probe]`` becomes ``/path/to.whl[probe]``)."""
    env_dir = base / name
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    assert readme_line[:2] == ["pip", "install"]
    args = [a.replace(DISTRIBUTION, str(wheel), 1) if a.startswith(DISTRIBUTION) else a for a in readme_line[2:]]
    env = user_env()
    if constraint is not None:
        env["PIP_CONSTRAINT"] = str(constraint)
    proc = subprocess.run([str(venv_bin(env_dir, "python")), "-m", "pip", "install", "--quiet", *args], env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return env_dir


def run_in(env_dir: Path, argv: list[str], tmp_path: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``argv`` with its program taken from the virtualenv (the installed console script)."""
    env = dict(user_env(), PREFLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run([str(venv_bin(env_dir, argv[0])), *argv[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_core_wheel_installs_and_checks_the_examples_without_torch(wheel, tmp_path):
    env_dir = install(tmp_path, "core", user_installs()["core"], wheel)
    print(f"\ncore install: {tree_bytes(env_dir) / 1e6:.0f} MB")
    assert not finds_torch(env_dir)
    where = run_in(env_dir, ["python", "-c", "import importlib.metadata as m, preflight; "
                             f"print(m.version({DISTRIBUTION!r}), preflight.__file__)"], tmp_path, cwd=tmp_path)
    version, path = where.stdout.split()
    assert version == __version__ and Path(path).is_relative_to(env_dir), where.stdout + where.stderr

    demo = run_in(env_dir, demo_command(), tmp_path)  # the README's demo, exit 0 by --exit-zero
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "examples/heart_rate.csv: PF101 unnormalized-feature [heart_rate] mean 91.42" in demo.stdout
    assert "    probe: confirmed, best held-out BCE 0.656 -> 0.107\n" in demo.stdout  # trained by NumPy
    assert "torch" not in demo.stdout and demo.stderr == ""

    code = run_in(env_dir, ["preflight", "check", "--format", "json", "examples/softmax_classifier.py"], tmp_path)
    assert code.returncode == 1
    assert recorded_pf302(code.stdout)  # the recorded evidence shipped in the wheel

    config = torch_trainer_config(tmp_path)
    asked = run_in(env_dir, ["preflight", "probe", str(ROOT / "examples" / "heart_rate.csv"), "--rule", "PF101"],
                   tmp_path, cwd=config.parent)
    assert (asked.returncode, asked.stdout) == (2, "")
    assert asked.stderr.endswith(f"which is not installed: {TORCH_INSTALL}\n")
    explain = run_in(env_dir, ["preflight", "explain", "PF101"], tmp_path, cwd=tmp_path)
    assert explain.stdout.startswith("PF101 unnormalized-feature (warning)\n\n## What it does\n")


@pytest.mark.slow
def test_probe_extra_installs_torch_and_the_demo_trains(wheel, tmp_path):
    import torch

    constraint = tmp_path / "constraints.txt"  # the local CPU build, never the CUDA wheels
    constraint.write_text(f"torch=={torch.__version__.split('+')[0]}\n", encoding="utf-8")
    env_dir = install(tmp_path, "probe", user_installs()["probe"], wheel, constraint)
    print(f"\ncore and probe install: {tree_bytes(env_dir) / 1e6:.0f} MB")
    assert finds_torch(env_dir)
    demo = run_in(env_dir, demo_command(), tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "examples/heart_rate.csv: PF101 unnormalized-feature [heart_rate]" in demo.stdout
    assert re.search(r"probe: confirmed\b", demo.stdout), demo.stdout  # torch trained it
    assert "torch is not installed" not in demo.stdout
