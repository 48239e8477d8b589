"""[tool.preflight]: discovery, select/ignore by longest prefix, per-file-ignores, options."""

from __future__ import annotations

import textwrap

import pytest

from preflight import config as cfg
from preflight.checks import RULES_BY_CODE
from preflight.checks.base import Option
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


# --- every key, type and range is validated at load: one line, exit 2, with or without the probe ----------

BAD_CONFIGS = [  # (pyproject.toml body, the error line after "error: <file>: ")
    ("[tool.preflight]\nselect = [\n", "is not valid TOML (Invalid value (at end of document)); fix it or remove it"),
    ("[tool.preflight]\ntarget = 3\n",
     '[tool.preflight] target must be a column name in quotes, like target = "label"; not 3'),
    ('[tool.preflight]\nselect = "PF1"\n',
     '[tool.preflight] select must be a list of rule codes in quotes, like select = ["PF1"]; not "PF1"'),
    ('[tool.preflight]\nignore = ["PF1", 2]\n',
     '[tool.preflight] ignore must be a list of rule codes in quotes, like ignore = ["PF1"]; not ["PF1", 2]'),
    ('[tool.preflight]\nfail-on = "loud"\n',
     '[tool.preflight] fail-on must be "info", "warning" or "error", not "loud"'),
    ("[tool.preflight]\nfail-on = 1\n", '[tool.preflight] fail-on must be "info", "warning" or "error", not 1'),
    ("[tool.preflight]\nprobe = 3\n", "[tool.preflight.probe] must be a table of key = value settings, not 3"),
    ('[tool.preflight.per-file-ignores]\n"*.csv" = "PF1"\n',
     ('[tool.preflight.per-file-ignores] "*.csv" must be a list of rule codes in quotes, like "*.csv" = ["PF1"]; '
      'not "PF1"')),
    ("[tool.preflight.probe]\nsedes = 3\n",
     ("[tool.preflight.probe] has no key 'sedes'; the keys are batch-size, budget, cache, cache-dir, device, "
      "enabled, hidden, lr, max-rows, seeds, steps, trainer")),
    ('[tool.preflight.probe]\nseeds = "3"\n', '[tool.preflight.probe] seeds must be a whole number, not "3"'),
    ("[tool.preflight.probe]\nseeds = 0\n", "[tool.preflight.probe] seeds must be at least 1, not 0"),
    ("[tool.preflight.probe]\nhidden = 0\n", "[tool.preflight.probe] hidden must be at least 1, not 0"),
    ("[tool.preflight.probe]\nmax-rows = 0\n", "[tool.preflight.probe] max-rows must be at least 1, not 0"),
    ("[tool.preflight.probe]\nlr = nan\n", "[tool.preflight.probe] lr must be a finite number, not nan"),
    ("[tool.preflight.probe]\nlr = 0\n", "[tool.preflight.probe] lr must be above 0, not 0"),
    ("[tool.preflight.probe]\nbudget = -1\n",
     "[tool.preflight.probe] budget must be 0 or more (0: no limit), not -1"),
    ("[tool.preflight.probe]\nsteps = true\n", "[tool.preflight.probe] steps must be a whole number, not true"),
    ("[tool.preflight.probe]\nenabled = 1\n", "[tool.preflight.probe] enabled must be true or false, not 1"),
    ('[tool.preflight.probe]\ndevice = "gpu"\n',
     '[tool.preflight.probe] device must be one of cpu, cuda, cuda:N (N a GPU index) or mps, not "gpu"'),
    ("[tool.preflight.PF101]\nmax_mean = 3\n",
     ("PF101 has no option 'max_mean' in [tool.preflight.PF101] (options: max_abs_mean, max_std, min_std, "
      "max_columns)")),
    ("[tool.preflight.PF101]\nmax_std = -1\n", "[tool.preflight.PF101] max_std must be 0 or more, not -1"),
    ("[tool.preflight.PF101]\nmax-std = nan\n", "[tool.preflight.PF101] max-std must be a finite number, not nan"),
    ("[tool.preflight.PF101]\nmax_std = true\n", "[tool.preflight.PF101] max_std must be a number, not true"),
    ("[tool.preflight.PF101]\nmax_columns = 2.5\n",
     "[tool.preflight.PF101] max_columns must be a whole number, not 2.5"),
    ("[tool.preflight.PF204]\npurity = 1.5\n", "[tool.preflight.PF204] purity must be between 0 and 1, not 1.5"),
    ("[tool.preflight]\nPF101 = 3\n", "[tool.preflight.PF101] must be a table of option = value, not 3"),
    ("[tool]\npreflight = 3\n", "[tool.preflight] must be a table, not 3"),
]


def _project(tmp_path, body):
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(body)
    for name in ("hr.csv", "hr2.csv"):
        (tmp_path / name).write_bytes((ROOT / "examples" / "heart_rate.csv").read_bytes())
    return (tmp_path / "pyproject.toml").resolve()


@pytest.mark.parametrize("probe", [["--no-probe"], []], ids=["no-probe", "probe"])
@pytest.mark.parametrize("body,message", BAD_CONFIGS)
def test_each_config_error_is_one_line_once_per_run_before_any_input(tmp_path, body, message, probe):
    path = _project(tmp_path, body)
    result = run_cli(["check", *probe, "hr.csv", "hr2.csv"], cwd=tmp_path)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == f"error: {path}: {message}\n"


@pytest.mark.parametrize("body,message", BAD_CONFIGS)
def test_the_probe_command_reports_config_errors_the_same_way(tmp_path, body, message):
    path = _project(tmp_path, body)
    result = run_cli(["probe", "--rule", "PF101", "hr.csv"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == f"error: {path}: {message}\n"


def test_an_invalid_pyproject_found_by_discovery_is_an_error_naming_it(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")
    deep = tmp_path / "src"
    deep.mkdir()
    with pytest.raises(PreflightError, match=r"pyproject\.toml: is not valid TOML"):
        cfg.discover(deep)
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.preflight]\ntarget = '\xff'\n")
    with pytest.raises(PreflightError, match="not UTF-8"):
        cfg.discover(deep)


def test_an_unavailable_device_is_one_line_when_probing_and_nothing_without(tmp_path, monkeypatch):
    from preflight.probes import settings as probe_settings

    monkeypatch.setattr(probe_settings, "device_problem", lambda device: "torch sees no CUDA device on this machine")
    path = _project(tmp_path, '[tool.preflight.probe]\ndevice = "cuda"\n')
    result = run_cli(["check", "hr.csv", "hr2.csv"], cwd=tmp_path)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (f"error: {path}: [tool.preflight.probe] device = 'cuda' cannot be used: torch sees no "
                             'CUDA device on this machine; set device = "cpu", or run without the probe (--no-probe)\n')
    result = run_cli(["check", "--no-probe", "hr.csv"], cwd=tmp_path)  # the device is the probe's business only
    assert result.code == 1 and "PF101" in result.stdout and result.stderr == ""


def test_device_syntax_is_checked_without_torch():
    c = cfg.from_table({"probe": {"device": "cuda:1"}})
    assert c.probe == {"device": "cuda:1"}
    for device in ("cpu", "cuda", "cuda:0", "mps"):
        assert cfg.from_table({"probe": {"device": device}}).probe["device"] == device
    for device in ("auto", "cuda:", "cuda:x", "CPU", "tpu"):
        with pytest.raises(PreflightError, match="device must be one of"):
            cfg.from_table({"probe": {"device": device}})
    from preflight.probes.settings import device_problem

    assert device_problem("cpu") is None  # no torch import for the cpu


def test_validated_config_is_typed_and_option_lookups_cannot_fail():
    c = cfg.from_table({"PF101": {"max-abs-mean": 10, "max_columns": 3}, "pf204": {"purity": 1},
                        "probe": {"seeds": 5, "budget": 3, "max_rows": 100, "cache-dir": "/tmp/x"}})
    assert c.rule_options == {"PF101": {"max_abs_mean": 10.0, "max_columns": 3}, "PF204": {"purity": 1.0}}
    assert isinstance(c.rule_options["PF101"]["max_abs_mean"], float)
    assert c.probe == {"seeds": 5, "budget": 3.0, "max_rows": 100, "cache_dir": "/tmp/x"}
    assert c.options_for(RULES_BY_CODE["PF101"]) == {**RULES_BY_CODE["PF101"].defaults(), "max_abs_mean": 10.0,
                                                     "max_columns": 3}
    assert cfg.from_table({"PF201": {"max_runs_z": -8}}).rule_options["PF201"] == {"max_runs_z": -8.0}  # z below 0


def test_every_rule_option_states_its_range_and_its_default_lies_in_it():
    """No range is inferred from the default's sign: an option that cannot be negative says so (low=0)."""
    for rule in RULES_BY_CODE.values():
        for o in rule.options:
            if isinstance(o.default, bool) or not isinstance(o.default, (int, float)):
                continue
            if o.default >= 0:
                assert o.low is not None, f"{rule.code} {o.name}: a non-negative default and no low= bound"
            assert o.low is None or o.low <= o.default, (rule.code, o)
            assert o.high is None or o.default <= o.high, (rule.code, o)


def test_option_bounds_are_inclusive_and_word_the_error():
    assert cfg.from_table({"PF204": {"purity": 0, "max_p_value": 1}}).rule_options["PF204"] == {
        "purity": 0.0, "max_p_value": 1.0}
    with pytest.raises(PreflightError, match=r"\[tool.preflight.PF202\] max_rank_correlation must be between "
                                             r"0 and 1, not 1.5$"):
        cfg.from_table({"PF202": {"max_rank_correlation": 1.5}})
    with pytest.raises(PreflightError, match=r"\[tool.preflight.PF202\] min_z must be 0 or more, not -1$"):
        cfg.from_table({"PF202": {"min_z": -1}})
    assert cfg._option_range(Option("x", 1.0, "", high=2.0), 2.5) == "2 or less"
    assert cfg._option_range(Option("x", 1.0, "", low=0.5, high=2.0), 1e-3) == "between 0.5 and 2"


def test_probe_keys_name_probe_settings_fields():
    from dataclasses import fields

    from preflight.probes.settings import ProbeSettings

    assert {k.name for k in cfg.PROBE_KEYS.values()} <= {f.name for f in fields(ProbeSettings)}


def test_probe_settings_are_built_once_per_run_not_per_input(tmp_path, monkeypatch):
    from preflight.engine import RunOptions, check_paths
    from preflight.probes import run as probe_run

    calls = []
    real = probe_run.settings_from_config
    monkeypatch.setattr(probe_run, "settings_from_config", lambda *a, **k: calls.append(a) or real(*a, **k))
    _project(tmp_path, "")
    conf = cfg.from_table({"probe": {"enabled": False}})
    hook = probe_run.make_hook()
    report = check_paths([str(tmp_path / "hr.csv"), str(tmp_path / "hr2.csv")], conf,
                         RunOptions(probe=True, probe_hook=hook, on_probe=lambda *_: None))
    assert len([f for f in report.findings if f.code == "PF101"]) >= 2 and not report.errors
    assert len(calls) == 1


# --- the library: config= and select= -------------------------------------------------------------------

def test_library_config_errors_raise_one_line(tmp_path):
    import preflight

    data = str(_project(tmp_path, "").parent / "hr.csv")
    with pytest.raises(PreflightError) as bad:
        preflight.check(data, probe=False, config={"select": "PF1"})
    assert bad.value.format_message() == ('config=: [tool.preflight] select must be a list of rule codes in quotes, '
                                          'like select = ["PF1"]; not "PF1"')
    with pytest.raises(PreflightError, match=r"config= must be a Config, a .tool.preflight.-style mapping or the "
                                             r"path of a TOML file, not int"):
        preflight.check(data, probe=False, config=3)  # type: ignore[arg-type]
    with pytest.raises(PreflightError, match="no such config file"):
        preflight.check(data, probe=False, config=tmp_path / "missing.toml")
    with pytest.raises(PreflightError, match=r"\[tool.preflight.probe\] lr must be a finite number, not nan"):
        preflight.check(data, probe=False, config={"probe": {"lr": float("nan")}})
    with pytest.raises(PreflightError, match=r"select= must be a rule code or a list of them"):
        preflight.check(data, probe=False, select=3)  # type: ignore[arg-type]


def test_library_select_string_is_one_code(tmp_path):
    import preflight

    data = str(_project(tmp_path, "").parent / "hr.csv")
    assert {f.code for f in preflight.check(data, probe=False, select="PF101", config={}).findings} == {"PF101"}
    assert {f.code for f in preflight.check(data, probe=False, select="PF2,PF101", config={}).findings} == {"PF101"}
    assert not preflight.check(data, probe=False, select="PF2", config={}).findings
    assert "PF101" not in {f.code for f in preflight.check(data, probe=False, ignore="PF101", config={}).findings}


def test_a_config_made_directly_is_validated_too():
    c = cfg.Config(probe={"cache-dir": "/tmp/x", "budget": 1}, rule_options={"pf101": {"max-std": 3}})
    assert c.probe == {"cache_dir": "/tmp/x", "budget": 1.0}
    assert c.options_for(RULES_BY_CODE["PF101"])["max_std"] == 3.0
    assert c.with_overrides(select=["PF1"]).probe == c.probe
    with pytest.raises(PreflightError, match=r"config: \[tool.preflight.probe\] hidden must be at least 1, not 0"):
        cfg.Config(probe={"hidden": 0})
    with pytest.raises(PreflightError, match="rule options for 'PF999', which is no rule"):
        cfg.Config(rule_options={"PF999": {}})
