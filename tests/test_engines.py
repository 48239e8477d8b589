"""preflight.check on a Spark DataFrame and a Ray Dataset: the same statistics and findings as a local read.

A local Spark (local[2]) and a local Ray (2 CPUs) are started once for this module; both extras are
installed by CI (.ci/run), so these run there.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

import preflight
from preflight.errors import PreflightError
from preflight.inputs.frame import frame_subject
from preflight.integrations import engines

pytestmark = pytest.mark.slow

ROWS = 60_000


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    label = np.sort(rng.integers(0, 3, ROWS))  # sorted: runs that cross every partition boundary
    x = rng.normal(92, 12, ROWS)
    x[rng.random(ROWS) < 0.01] = np.nan
    words = rng.choice(["a", "b", "NA", ""], ROWS).astype(object)
    return pd.DataFrame({"heart_rate": x, "age": rng.normal(0, 1, ROWS), "rooms": rng.integers(1, 6, ROWS),
                         "word": words, "label": label})


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra: pip install 'pytorch-preflight[spark]'")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this interpreter
    session = (SparkSession.builder.master("local[2]").appName("preflight-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="module")
def ray_data():
    pytest.importorskip("ray.data", reason="the ray extra: pip install 'pytorch-preflight[ray]'")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray.data
    ray.shutdown()


def _assert_same_statistics(got, want) -> None:
    assert got.n_rows == want.n_rows
    assert got.numeric == want.numeric
    for f in ("n", "missing", "nonfinite", "min", "max"):
        np.testing.assert_array_equal(getattr(got.moments, f), getattr(want.moments, f))
    np.testing.assert_allclose(got.moments.mean, want.moments.mean, rtol=1e-12)
    np.testing.assert_allclose(got.moments.m2, want.moments.m2, rtol=1e-9)
    assert got.target_counts.counts == want.target_counts.counts
    assert got.target_runs == want.target_runs  # the label's runs stitched across partitions, in order
    assert got.text_missing == want.text_missing
    assert got.first_bad == want.first_bad
    assert got.row_hashes.counts() == want.row_hashes.counts()
    rows, _ = got.sample.result()
    assert 0 < len(rows) <= got.sample.capacity and np.all(np.diff(rows) > 0)


def _codes(report) -> list[tuple[str, str | None]]:
    return sorted((f.code, f.location.column) for f in report.findings)


def test_a_spark_dataframe_gives_the_local_statistics_and_findings(spark, table):
    sdf = spark.createDataFrame(table)  # slices of the frame, in order, one a partition
    parts = sdf.rdd.getNumPartitions()
    assert parts >= 2
    stats, reason = engines.spark_statistics(sdf, None)
    assert reason.startswith("inferred from its name")
    local = frame_subject(pl_frame(table), target="label", display="t")
    _assert_same_statistics(stats, local.stats)
    report = preflight.check(sdf, probe=False)
    assert _codes(report) == _codes(preflight.check(table, target="label", probe=False))
    assert {"PF101", "PF201"} <= {c for c, _ in _codes(report)}
    assert all(f.location.path == engines.SPARK_DISPLAY for f in report.findings)


def test_a_spark_dataframe_with_a_probe_trains_on_the_driver(spark, table):
    rows = table.iloc[::15].copy()
    rows["age"] = rows["label"] + np.random.default_rng(1).normal(0, 0.5, len(rows))  # learnable
    report = preflight.check(spark.createDataFrame(rows), target="label", select=["PF201"])
    (finding,) = report.findings
    assert finding.code == "PF201"
    assert finding.probe is not None and finding.probe.verdict == "confirmed"  # sorted labels: shuffling helps
    (local,) = preflight.check(rows, target="label", select=["PF201"]).findings
    assert local.probe is not None and local.probe.verdict == "confirmed"


def test_a_ray_dataset_gives_the_local_statistics_and_findings(ray_data, table):
    ds = ray_data.from_pandas(table).repartition(6)
    stats, _ = engines.ray_statistics(ds, "label")
    _assert_same_statistics(stats, frame_subject(pl_frame(table), target="label", display="t").stats)
    report = preflight.check(ds, target="label", probe=False)
    assert _codes(report) == _codes(preflight.check(table, target="label", probe=False))
    assert all(f.location.path == engines.RAY_DISPLAY for f in report.findings)


def test_ray_parquet_shards_in_order(ray_data, table, shards):
    paths = [str(p) for p in sorted(shards.iterdir())]
    stats, _ = engines.ray_statistics(ray_data.read_parquet(paths), "label")
    _assert_same_statistics(stats, frame_subject(pl_frame(table), target="label", display="t").stats)


def test_engine_input_errors_are_one_line(spark, table):
    with pytest.raises(PreflightError, match="no column named 'nope' for target="):
        preflight.check(spark.createDataFrame(table.head(10)), target="nope", probe=False)
    empty = spark.createDataFrame(table.head(0), schema="heart_rate double, label long")
    with pytest.raises(PreflightError, match="has no rows"):
        preflight.check(empty, target="label", probe=False)


def pl_frame(table: pd.DataFrame):
    import polars as pl

    return pl.from_pandas(table)


@pytest.fixture(scope="module")
def shards(table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    for i, start in enumerate(range(0, ROWS, ROWS // 20)):
        table.iloc[start:start + ROWS // 20].to_parquet(folder / f"part-{i:05d}.parquet", index=False)
    return folder


def test_engine_command_line_measures_the_folder_as_one_table(spark, ray_data, shards):
    from tests.conftest import run_cli

    want = preflight.check(pl_frame(pd.concat(pd.read_parquet(p) for p in sorted(shards.iterdir()))),
                           target="label", probe=False)
    for engine in ("spark", "ray"):
        got = run_cli(["check", str(shards), "--engine", engine, "--target", "label", "--no-probe",
                       "--format", "json"])
        assert got.code == 1, got.stderr
        found = sorted((f["code"], f["column"]) for f in json.loads(got.stdout)["findings"])
        assert found == _codes(want), engine
        assert "PF201" in {c for c, _ in found}


def test_engine_without_its_extra_is_one_line(monkeypatch, tmp_path):
    from tests.conftest import run_cli

    monkeypatch.setitem(engines._EXTRA, "spark", ("no_such_spark_module", "spark"))
    got = run_cli(["check", str(tmp_path), "--engine", "spark"])
    assert got.code == 2
    assert got.stderr.strip().splitlines() == [
        "error: --engine spark needs no_such_spark_module: pip install \"pytorch-preflight[spark]\""]


def test_engine_on_a_missing_path_is_one_line(spark, tmp_path):
    from tests.conftest import run_cli

    got = run_cli(["check", str(tmp_path / "missing"), "--engine", "spark", "--no-probe"])
    assert got.code == 2
    assert str(tmp_path / "missing") in got.stderr and "Spark could not read it" in got.stderr
    assert "Traceback" not in got.stderr
