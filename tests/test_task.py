"""--task / task = / task=: the learning task named, checked against the target; and the inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import preflight
from preflight import config as cfg
from preflight.cli import cli
from preflight.errors import PreflightError
from preflight.inputs.tabular import reads_as_quantity


def task_of(df: pd.DataFrame, **kw: object) -> str | None:
    report = preflight.check(df, probe=False, **kw)  # type: ignore[arg-type]
    return report.summary["files"][0]["task"]


def weights(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "w": rng.choice([120, 135, 142, 150, 161, 170, 188], n)})


def test_spread_integer_target_reads_as_regression() -> None:
    assert task_of(weights(), target="w") == "regression"


def test_dense_class_codes_stay_classification() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=150), "label": rng.integers(0, 3, 150)})
    assert task_of(df) == "multiclass"


@pytest.mark.parametrize(("values", "n", "quantity"), [
    ([0, 1, 2], 150, False),  # iris-like codes
    ([3, 4, 5, 6, 7, 8], 1599, False),  # wine quality scores: dense
    ([120, 135, 142, 150, 161], 60, True),  # pounds: spread out
    ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 30, True),  # 3 rows a value
])
def test_reads_as_quantity(values: list[float], n: int, quantity: bool) -> None:
    assert reads_as_quantity([float(v) for v in values], n) is quantity


def test_task_keyword_overrides_the_inference() -> None:
    assert task_of(weights(), target="w", task="multiclass") == "multiclass"


def test_task_binary_on_many_values_is_one_error_line() -> None:
    with pytest.raises(PreflightError, match=r"task= binary: the target 'w' has more than two values \(7\)"):
        preflight.check(weights(), target="w", probe=False, task="binary")


@pytest.mark.parametrize("bad", ["bin", 3, ""])
def test_config_task_is_validated_at_load(bad: object) -> None:
    with pytest.raises(PreflightError, match="task must be one of binary, multiclass, regression"):
        cfg.from_table({"task": bad}, source="pyproject.toml")


def test_config_task_is_read() -> None:
    assert cfg.from_table({"task": "Regression"}).task == "regression"
    assert cfg.from_table({}).task is None


def test_cli_task_option(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "w.csv"
    weights().to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(cli, ["check", str(path), "--target", "w", "--task", "multiclass", "--no-probe",
                              "--format", "json"])
    assert out.exit_code in (0, 1), out.output
    assert '"task": "multiclass"' in out.output
    bad = runner.invoke(cli, ["check", str(path), "--task", "nope", "--no-probe"])
    assert bad.exit_code == 2
