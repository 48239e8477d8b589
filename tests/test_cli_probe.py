"""`preflight probe` chooses the columns the rule's fix covers, also when its finding names none."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_probe_on_a_wide_table_covers_every_column_of_pf101s_single_finding(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 400, 12  # more flagged columns than PF101's max_columns (10): one finding, no column
    X = rng.normal(50, 20, (n, d))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    names = [f"f{i}" for i in range(d)]
    lines = [",".join([*names, "label"])] + [",".join([*(f"{v:.3f}" for v in row), str(t)]) for row, t in zip(X, y)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(["probe", str(path), "--rule", "PF101", "--steps", "40", "--seeds", "1", "--no-cache",
                      "--format", "json"])
    assert result.code == 0, result.stderr
    evidence = json.loads(result.stdout)
    assert evidence["verdict"] != "skipped", evidence
    assert sorted(evidence["columns"]) == sorted(names)


def test_probe_on_a_rule_that_flags_nothing_asks_for_columns(tmp_path):
    path = tmp_path / "scaled.csv"
    rng = np.random.default_rng(1)
    rows = [f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in rng.normal(0, 1, (100, 2))]
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_cli(["probe", str(path), "--rule", "PF101"])
    assert result.code == 2
    assert result.stderr.strip().endswith("PF101 flags no column here; name the columns with --column")
