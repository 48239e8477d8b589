"""Choosing files as users do (issue 14): exclude / extend-exclude, .gitignore, the default path '.',
standard input, compressed CSV, the count of skipped files, and the selection precedence of the command
line over the config (ruff's). The gitignore matcher is checked against ``pathspec`` in
``test_ignore.py``."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import preflight
from tests.conftest import ROOT, Result, run_cli

HEART = ROOT / "examples" / "heart_rate.csv"  # fires PF101 on heart_rate


def run_stdin(args: list[str], data: bytes, cwd: Path) -> Result:
    """The real entry point with ``data`` on standard input."""
    from preflight.cli import main

    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with runner.isolation(input=data) as (out, err, _):
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        return Result(code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        os.chdir(old)


def checked(result: Result) -> list[str]:
    """The files a JSON run read, relative names as given."""
    assert result.code in (0, 1), result.stderr
    return sorted(f["path"] for f in json.loads(result.stdout)["summary"]["files"])


def lightning_project(root: Path) -> Path:
    """A Lightning project as a user has it: a repository whose .gitignore names the logs and checkpoints."""
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("lightning_logs/\n*.ckpt.csv\n")
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_bytes(HEART.read_bytes())
    logs = root / "lightning_logs" / "version_0"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text("epoch,step,train_loss\n0,10,0.9\n0,20,0.7\n1,30,0.5\n")
    (root / "last.ckpt.csv").write_text("a,b\n1,2\n")
    return root


def test_gitignored_lightning_logs_are_not_checked(tmp_path):
    lightning_project(tmp_path)
    result = run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path)
    assert checked(result) == ["data/train.csv"]


def test_no_respect_gitignore_checks_them(tmp_path):
    lightning_project(tmp_path)
    result = run_cli(["check", "--no-probe", "--format", "json", "--no-respect-gitignore", "."], cwd=tmp_path)
    assert checked(result) == ["data/train.csv", "last.ckpt.csv", "lightning_logs/version_0/metrics.csv"]


def test_respect_gitignore_false_in_config(tmp_path):
    lightning_project(tmp_path)
    (tmp_path / "preflight.toml").write_text("respect-gitignore = false\n")
    result = run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path)
    assert "lightning_logs/version_0/metrics.csv" in checked(result)


def test_a_file_named_on_the_command_line_is_checked_even_if_ignored(tmp_path):
    lightning_project(tmp_path)
    name = "lightning_logs/version_0/metrics.csv"
    result = run_cli(["check", "--no-probe", "--format", "json", name, "--exclude", "lightning_logs"], cwd=tmp_path)
    assert checked(result) == [name]


def test_force_exclude_applies_the_patterns_to_named_paths(tmp_path):
    lightning_project(tmp_path)
    named = ["lightning_logs/version_0/metrics.csv", "data/train.csv"]
    args = ["check", "--no-probe", "--format", "json", "--extend-exclude", "lightning_logs", *named]
    assert checked(run_cli(args, cwd=tmp_path)) == sorted(named)
    assert checked(run_cli([*args, "--force-exclude"], cwd=tmp_path)) == ["data/train.csv"]
    (tmp_path / "preflight.toml").write_text('force-exclude = true\nextend-exclude = ["data/*.csv"]\n')
    only = run_cli(["check", "--no-probe", "data/train.csv"], cwd=tmp_path)
    assert (only.code, only.stderr) == (0, "")  # nothing left to check is no error (a pre-commit run)
    assert "No problems found in 0 files" in only.stdout


def test_gitignore_of_the_repository_root_applies_to_a_walked_subfolder(tmp_path):
    lightning_project(tmp_path)
    (tmp_path / "data" / "epoch3.ckpt.csv").write_text("a\n1\n")  # *.ckpt.csv in the root's .gitignore
    result = run_cli(["check", "--no-probe", "--format", "json", "data"], cwd=tmp_path)
    assert checked(result) == ["data/train.csv"]


def test_an_ignored_folder_named_on_the_command_line_is_walked(tmp_path):
    lightning_project(tmp_path)
    result = run_cli(["check", "--no-probe", "--format", "json", "lightning_logs"], cwd=tmp_path)
    assert checked(result) == ["lightning_logs/version_0/metrics.csv"]


def test_nested_gitignore_negation_and_anchoring(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.csv\n!keep.csv\n/top.parquet\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    for folder in (tmp_path, sub):
        (folder / "x.csv").write_text("a\n1\n")
        (folder / "keep.csv").write_text("a\n1\n")
    (sub / ".gitignore").write_text("!x.csv\n")
    result = run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path)
    assert checked(result) == ["keep.csv", "sub/keep.csv", "sub/x.csv"]


def test_config_exclude_replaces_the_defaults_and_extend_exclude_adds(tmp_path):
    for folder in ("build", "raw", "data"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.csv").write_text("a\n1\n")
    run = lambda: checked(run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path))  # noqa: E731
    assert run() == ["data/t.csv", "raw/t.csv"]  # build/ is a default exclude, as in ruff
    (tmp_path / "preflight.toml").write_text('extend-exclude = ["raw/"]\n')
    assert run() == ["data/t.csv"]
    (tmp_path / "preflight.toml").write_text('exclude = ["raw/"]\n')
    assert run() == ["build/t.csv", "data/t.csv"]
    (tmp_path / "preflight.toml").write_text('exclude = ["/data/t.csv"]\n')  # anchored at the config's folder
    assert run() == ["build/t.csv", "raw/t.csv"]


def test_cli_exclude_and_extend_exclude(tmp_path):
    for folder in ("build", "raw", "data"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.csv").write_text("a\n1\n")
    run = lambda *a: checked(run_cli(["check", "--no-probe", "--format", "json", ".", *a], cwd=tmp_path))  # noqa: E731
    assert run("--extend-exclude", "raw") == ["data/t.csv"]
    assert run("--exclude", "raw,data/*.csv") == ["build/t.csv"]
    assert run("--extend-exclude", "data/*.csv") == ["raw/t.csv"]
    assert run("--exclude", "raw") == ["build/t.csv", "data/t.csv"]


def test_bad_exclude_in_config_is_one_line(tmp_path):
    (tmp_path / "preflight.toml").write_text('exclude = "raw"\n')
    result = run_cli(["check", "--no-probe", "."], cwd=tmp_path)
    assert result.code == 2
    assert "exclude must be a list of path patterns in quotes" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_path_means_the_current_directory(tmp_path):
    (tmp_path / "heart.csv").write_bytes(HEART.read_bytes())
    result = run_cli(["check", "--no-probe"], cwd=tmp_path)
    assert result.code == 1
    assert "heart.csv: PF101 unnormalized-feature [heart_rate]" in result.stdout


def test_unsupported_files_in_a_folder_are_counted_in_the_summary(tmp_path):
    (tmp_path / "heart.csv").write_bytes(HEART.read_bytes())
    for name in ("notes.txt", "model.pt", "README.md", ".env"):  # a hidden file is not counted
        (tmp_path / name).write_text("x")
    result = run_cli(["check", "--no-probe", "."], cwd=tmp_path)
    assert result.stdout.rstrip().endswith("; 3 files skipped (unsupported type).")
    data = json.loads(run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path).stdout)
    assert data["summary"]["skipped"] == 3
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "model.pt").unlink()
    assert "; 1 file skipped (unsupported type)." in run_cli(["check", "--no-probe", "."], cwd=tmp_path).stdout


# --- standard input ---

def test_stdin_is_csv_by_default_and_named_dash(tmp_path):
    result = run_stdin(["check", "--no-probe", "-"], HEART.read_bytes(), tmp_path)
    assert result.code == 1
    assert "-: PF101 unnormalized-feature [heart_rate]" in result.stdout


def test_stdin_filename_names_it_and_gives_its_type(tmp_path):
    result = run_stdin(["check", "--no-probe", "--stdin-filename", "data/heart.csv.gz", "-"],
                       gzip.compress(HEART.read_bytes()), tmp_path)
    assert "data/heart.csv.gz: PF101 unnormalized-feature [heart_rate]" in result.stdout
    source = (ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py").read_bytes()
    result = run_stdin(["check", "--no-probe", "--stdin-filename", "train.py", "-"], source, tmp_path)
    assert result.code == 1
    assert "train.py:" in result.stdout and "PF301" in result.stdout
    assert not list(tmp_path.iterdir())  # nothing written beside the user's files


def test_stdin_notebook_names_its_cells(tmp_path):
    source = (ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py").read_text()
    cells = [{"cell_type": "code", "metadata": {}, "source": "x = 1\n", "outputs": [], "execution_count": None},
             {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}]
    nb = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    result = run_stdin(["check", "--no-probe", "--stdin-filename", "nb.ipynb", "-"], nb, tmp_path)
    assert result.code == 1
    assert "nb.ipynb:cell 2:line 11:" in result.stdout and "PF301" in result.stdout


def test_stdin_python_over_the_size_limit_is_refused(tmp_path):
    from preflight.inputs.limits import MAX_PYTHON_BYTES

    result = run_stdin(["check", "--no-probe", "--stdin-filename", "big.py", "-"],
                       b"x = 1\n" * (MAX_PYTHON_BYTES // 6 + 10), tmp_path)
    assert result.code == 2 and result.stderr == (
        "error: big.py: is over the 4 MB preflight reads as Python source (generated code or data?); "
        "not read: check a smaller input\n")


def test_stdin_filename_of_an_unsupported_type_is_one_line(tmp_path):
    result = run_stdin(["check", "--no-probe", "--stdin-filename", "model.pt", "-"], b"x", tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("error: --stdin-filename 'model.pt' is not a file type preflight reads")


def test_stdin_error_lines_name_the_stdin_name_not_a_temporary_file(tmp_path):
    result = run_stdin(["check", "--no-probe", "--stdin-filename", "empty.csv", "-"], b"", tmp_path)
    assert result.code == 2
    assert result.stderr == "error: empty.csv: is empty; there is nothing to check\n"


# --- compressed CSV ---

def _codes(report):
    return sorted((f.code, f.location.column) for f in report.findings)


@pytest.mark.parametrize("suffix,compress", [(".csv.gz", gzip.compress), (".csv.bz2", bz2.compress),
                                             (".tsv.gz", gzip.compress)])
def test_compressed_csv_reads_as_the_plain_file(tmp_path, suffix, compress):
    data = HEART.read_bytes()
    if suffix.startswith(".tsv"):
        data = data.replace(b",", b"\t")
    plain = tmp_path / f"plain{suffix[:4]}"
    plain.write_bytes(data)
    packed = tmp_path / f"heart{suffix}"
    packed.write_bytes(compress(data))
    want = preflight.check(str(plain), probe=False)
    got = preflight.check(str(packed), probe=False)
    assert _codes(got) == _codes(want) and _codes(got)
    assert {f.location.path for f in got.findings} == {str(packed)}
    assert got.summary["files"][0]["rows"] == want.summary["files"][0]["rows"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([plain.name, packed.name])


def test_a_compressed_file_in_a_folder_is_walked(tmp_path):
    (tmp_path / "heart.csv.gz").write_bytes(gzip.compress(HEART.read_bytes()))
    (tmp_path / "other.gz").write_bytes(gzip.compress(b"not a table"))
    result = run_cli(["check", "--no-probe", "--format", "json", "."], cwd=tmp_path)
    assert checked(result) == ["heart.csv.gz"]
    assert json.loads(result.stdout)["summary"]["skipped"] == 1


def test_a_cut_gzip_file_is_one_error_line(tmp_path):
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(HEART.read_bytes())[:300])
    result = run_cli(["check", "--no-probe", "cut.csv.gz"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("error: cut.csv.gz: is not valid gzip data, or is cut short (")
    assert "Traceback" not in result.stderr


def test_zstd_without_zstandard_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard raises ImportError
    (tmp_path / "heart.csv.zst").write_bytes(b"\x28\xb5\x2f\xfd")
    result = run_cli(["check", "--no-probe", "heart.csv.zst"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == ("error: heart.csv.zst: is zstd-compressed, which needs the zstandard package: "
                             "pip install zstandard (or decompress it: zstd -d)\n")


def test_zstd_is_read_through_zstandard_stream_reader(tmp_path, monkeypatch):
    """The wiring to zstandard's streaming API, with a stand-in whose "compression" is gzip."""
    calls = []

    class Decompressor:
        def stream_reader(self, raw, closefd=True):
            calls.append(closefd)
            return gzip.GzipFile(fileobj=raw, mode="rb")

    monkeypatch.setitem(sys.modules, "zstandard", types.SimpleNamespace(ZstdDecompressor=Decompressor))
    (tmp_path / "heart.csv.zst").write_bytes(gzip.compress(HEART.read_bytes()))
    report = preflight.check(str(tmp_path / "heart.csv.zst"), probe=False)
    assert ("PF101", "heart_rate") in _codes(report) and calls == [True]


# --- selection: the command line over the config, rule names as codes ---

def _table_config(tmp_path, text):
    (tmp_path / "preflight.toml").write_text(text)
    (tmp_path / "heart.csv").write_bytes(HEART.read_bytes())


def test_cli_select_wins_over_config_ignore(tmp_path):
    _table_config(tmp_path, 'ignore = ["PF1"]\n')
    assert "PF101" not in run_cli(["check", "--no-probe", "heart.csv"], cwd=tmp_path).stdout
    result = run_cli(["check", "--no-probe", "--select", "PF101", "heart.csv"], cwd=tmp_path)
    assert result.code == 1 and "PF101 unnormalized-feature" in result.stdout


def test_cli_ignore_adds_to_config_ignore(tmp_path):
    _table_config(tmp_path, 'ignore = ["PF2"]\n')
    result = run_cli(["check", "--no-probe", "--ignore", "PF101", "--show-settings", "heart.csv"], cwd=tmp_path)
    assert 'ignore = ["PF2", "PF101"]' in result.stdout


def test_rule_names_are_accepted_where_codes_are(tmp_path):
    _table_config(tmp_path, 'select = ["unnormalized-feature"]\n')
    result = run_cli(["check", "--no-probe", "--format", "json", "heart.csv"], cwd=tmp_path)
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"PF101"}
    result = run_cli(["check", "--no-probe", "--ignore", "unnormalized-feature", "heart.csv"], cwd=tmp_path)
    assert result.code == 0 and "PF101" not in result.stdout
    report = preflight.check(str(HEART), probe=False, select=["unnormalized-feature"])
    assert {f.code for f in report.findings} == {"PF101"}
    bad = run_cli(["check", "--no-probe", "--select", "unnormalised-feature", "heart.csv"], cwd=tmp_path)
    assert bad.code == 2 and "unknown rule code 'UNNORMALISED-FEATURE'" in bad.stderr


# --- --show-settings ---

def test_show_settings_prints_the_resolved_settings_and_reads_no_input(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.preflight]\nignore = ["PF2"]\ntarget = "label"\n'
                                             '[tool.preflight.PF101]\nmax_abs_mean = 10.0\n'
                                             '[tool.preflight.probe]\nseeds = 5\n')
    result = run_cli(["check", "--show-settings", "--probe-budget", "7", "missing.csv"], cwd=tmp_path)
    assert result.code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert f'config file = "{tmp_path / "pyproject.toml"}"' in lines
    assert 'paths = ["missing.csv"]' in lines
    from preflight.checks import ALL_RULES

    kept = [f"    {r.code} {r.name}," for r in ALL_RULES if not r.code.startswith("PF2")]
    start = lines.index(f"rules = [  # {len(kept)} of {len(ALL_RULES)} rules")
    assert lines[start + 1:lines.index("]", start)] == kept and kept[0] == "    PF101 unnormalized-feature,"
    assert 'target = "label"' in lines and "PF101.max_abs_mean = 10.0" in lines
    assert "probe = on" in lines and "probe.seeds = 5" in lines and "probe.budget = 7.0" in lines
    assert "respect-gitignore = true" in lines
    off = run_cli(["check", "--show-settings", "--no-probe"], cwd=tmp_path).stdout.splitlines()
    assert "probe = off  # --no-probe" in off and 'paths = ["."]' in off
