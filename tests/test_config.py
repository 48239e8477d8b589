"""[tool.preflight]: discovery, select/ignore by longest prefix, per-file-ignores, options."""

from __future__ import annotations

import textwrap

import pytest

from preflight import config as cfg
from preflight.checks import RULES_BY_CODE
from preflight.errors import PreflightError
from tests.conftest import ROOT, run_cli


def test_longest_prefix_decides():
    c = cfg.Config(select=("PF",), ignore=("PF1",))
    assert not c.enabled("PF101") and c.enabled("PF201")
    c = cfg.Config(select=("PF", "PF102"), ignore=("PF1",))
    assert c.enabled("PF102") and not c.enabled("PF101")
    c = cfg.Config(select=("PF2",))
    assert not c.enabled("PF101") and c.enabled("PF202")


def test_discovery_walks_up_to_the_repository_root(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.preflight]\nignore = ['PF201']\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert cfg.discover(deep) == tmp_path / "pyproject.toml"
    outside = tmp_path / "a" / "c"
    outside.mkdir()
    (outside / ".git").mkdir()  # a nested repository stops the walk
    assert cfg.discover(outside) is None


def test_pyproject_without_the_table_is_skipped(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "preflight.toml").write_text("target = 'y'\n")
    assert cfg.load(cfg.discover(tmp_path / "sub")).target == "y"
    assert cfg.discover(tmp_path) is None


def test_config_applies_to_the_cli(tmp_path):
    (tmp_path / ".git").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    (data / "hr.csv").write_bytes((ROOT / "examples" / "heart_rate.csv").read_bytes())
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.preflight]
        select = ["PF"]
        [tool.preflight.PF101]
        max_abs_mean = 100.0
        max_std = 50
    """))
    assert run_cli(["check", "--no-probe", "data/hr.csv"], cwd=tmp_path).code == 0
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.preflight]
        [tool.preflight.per-file-ignores]
        "data/*.csv" = ["PF101"]
    """))
    assert run_cli(["check", "--no-probe", "data/hr.csv"], cwd=tmp_path).code == 0
    (tmp_path / "pyproject.toml").write_text("[tool.preflight]\n")
    result = run_cli(["check", "--no-probe", "data/hr.csv"], cwd=tmp_path)
    assert result.code == 1 and "PF101" in result.stdout


@pytest.mark.parametrize("body,needle", [
    ("select = ['PF9']", "unknown rule code 'PF9'"),
    ("colour = 'red'", "unknown key 'colour'"),
    ("[PF101]\nmax_mean = 3", "PF101 has no option 'max_mean'"),
    ("[PF101]\nmax_std = 'big'", "must be a number"),
    ("fail-on = 'loud'", "fail-on must be"),
    ("select = [", "not valid TOML"),
])
def test_bad_config_is_one_clear_line(tmp_path, body, needle):
    (tmp_path / ".git").mkdir()
    (tmp_path / "preflight.toml").write_text(body + "\n")
    (tmp_path / "hr.csv").write_bytes((ROOT / "examples" / "heart_rate.csv").read_bytes())
    result = run_cli(["check", "--no-probe", "hr.csv"], cwd=tmp_path)
    assert result.code == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_options_are_typed_from_defaults():
    c = cfg.from_table({"PF101": {"max-abs-mean": 10}})
    assert c.options_for(RULES_BY_CODE["PF101"])["max_abs_mean"] == 10.0
    with pytest.raises(PreflightError):
        cfg.from_table({"select": ["PF7"]})
