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
    # six blocks of 10,000 rows, two of each class: PF205 names them, and explains PF201's order
    local = [("PF205" if c == "PF201" else c, col) for c, col in _codes(preflight.check(table, target="label",
                                                                                        probe=False))]
    assert _codes(report) == sorted(local)
    (shards,) = [f for f in report.findings if f.code == "PF205"]
    assert shards.message.startswith("6 of 6 shards (100% of rows) each hold essentially one class: block 1 (0: ")
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

    whole = preflight.check(pl_frame(pd.concat(pd.read_parquet(p) for p in sorted(shards.iterdir()))),
                            target="label", probe=False)
    want = sorted(("PF205" if c == "PF201" else c, col) for c, col in _codes(whole))  # shards explain the order
    for engine in ("local", "spark", "ray"):
        got = run_cli(["check", str(shards), "--engine", engine, "--target", "label", "--no-probe",
                       "--format", "json"])
        assert got.code == 1, got.stderr
        found = sorted((f["code"], f["column"]) for f in json.loads(got.stdout)["findings"])
        assert found == want, engine


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
    assert got.stderr.strip() == f"error: {tmp_path / 'missing'}: no such file or directory"
    assert "Traceback" not in got.stderr


# --- the acceptance dataset: 20 shards, 5M rows, the label sorted across shards ---------------------

BIG_ROWS, BIG_SHARDS = 5_000_000, 20


def _big_frame(order: str) -> pd.DataFrame:
    """3 classes; "sorted": by label across the shards, "shuffled": at random, "within": each shard
    holding a random fifth of the rows, sorted by label inside it."""
    rng = np.random.default_rng(12)
    y = rng.integers(0, 3, BIG_ROWS)
    frame = pd.DataFrame({"pulse": rng.normal(92, 12, BIG_ROWS), "age": y + rng.normal(0, 1, BIG_ROWS), "label": y})
    if order == "sorted":
        return frame.sort_values("label", kind="stable", ignore_index=True)
    if order == "within":
        per = BIG_ROWS // BIG_SHARDS
        return pd.concat([frame.iloc[i:i + per].sort_values("label", kind="stable") for i in range(0, BIG_ROWS, per)],
                         ignore_index=True)
    return frame


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The three orders of one table, each as 20 Parquet shards of 250,000 rows."""
    out = {}
    for order in ("sorted", "shuffled", "within"):
        frame = _big_frame(order)
        folder = tmp_path_factory.mktemp(order)
        per = BIG_ROWS // BIG_SHARDS
        for i in range(BIG_SHARDS):
            frame.iloc[i * per:(i + 1) * per].to_parquet(folder / f"part-{i:05d}.parquet", index=False)
        out[order] = folder
    return out


def _report(args):
    from tests.conftest import run_cli

    got = run_cli(["check", *args, "--target", "label", "--no-probe", "--format", "json"])
    assert got.code in (0, 1), got.stderr
    return sorted((f["code"], f["column"], f["message"]) for f in json.loads(got.stdout)["findings"])


def _assert_same_table(got, want, ordered: bool) -> None:
    """The statistics of one table read two ways: equal to float tolerance; the order-bound ones
    (label runs, first bad rows) only when both read the shards in the same order."""
    assert got.n_rows == want.n_rows == BIG_ROWS and got.numeric == want.numeric
    np.testing.assert_array_equal(got.moments.n, want.moments.n)
    np.testing.assert_allclose(got.moments.mean, want.moments.mean, rtol=1e-12)
    np.testing.assert_allclose(got.moments.m2, want.moments.m2, rtol=1e-9)
    assert got.target_counts.counts == want.target_counts.counts
    assert got.row_hashes.counts() == want.row_hashes.counts()
    assert {k: (s.n, s.labels) for k, s in got.shards.shards.items()} == {
        k: (s.n, s.labels) for k, s in want.shards.shards.items()}
    if ordered:
        assert got.target_runs == want.target_runs


def test_a_sharded_dataset_gives_the_same_statistics_and_findings_everywhere(spark, ray_data, big):
    """Local, Ray (2 CPUs) and Spark (local[2]) on 20 shards of 5M rows: the same statistics, the
    same findings, PF205 among them. Spark packs files into partitions by size, so its row order (and
    with it the label runs) is its own; Ray keeps the files' order."""
    from preflight.inputs.dataset import dataset_subject
    from preflight.inputs.options import ReadOptions

    path = str(big["sorted"])
    local = dataset_subject(path, ReadOptions(target="label")).stats
    ds, files = engines._ray_read(path, None)
    assert files == "path"
    ray_stats, _ = engines.ray_statistics(ds, "label", root=path, file_column=files)
    spark_stats, _ = engines.spark_statistics(engines._spark_read(path, "local[2]"), "label", root=path)
    _assert_same_table(ray_stats, local, ordered=True)
    _assert_same_table(spark_stats, local, ordered=False)
    assert list(local.shards.shards) == [f"part-{i:05d}.parquet" for i in range(BIG_SHARDS)]
    want = _report([path, "--engine", "local"])
    assert [c for c, _, _ in want] == ["PF101", "PF205"]
    # 3 classes over 20 shards: the two shards where the classes meet hold two each, the other 18 one
    assert want[1][2].startswith("18 of 20 shards (90% of rows) each hold essentially one class: part-00000")
    for engine in ("ray", "spark"):
        assert _report([path, "--engine", engine]) == want, engine


def test_label_sorted_shards_stay_silent_on_the_same_rows_shuffled_or_sorted_only_within(big):
    shuffled = _report([str(big["shuffled"]), "--engine", "local"])
    assert [c for c, _, _ in shuffled] == ["PF101"]
    within = _report([str(big["within"]), "--engine", "local"])
    assert [c for c, _, _ in within] == ["PF101", "PF201"]  # the rows' order is PF201's case, not the shards'


@pytest.fixture(scope="module")
def s3_bucket(big):
    """The sorted shards in a bucket of a local S3 server (moto's server mode)."""
    moto_server = pytest.importorskip("moto.server")
    from pyarrow import fs

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    store = fs.S3FileSystem(endpoint_override=endpoint, allow_bucket_creation=True, region="us-east-1")
    store.create_dir("lake")
    for shard in sorted(big["sorted"].iterdir()):
        with store.open_output_stream(f"lake/train/{shard.name}") as out:
            out.write(shard.read_bytes())
    yield "s3://lake/train/"
    for k, v in saved.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    server.stop()


def test_the_same_shards_in_an_object_store_give_the_same_findings(ray_data, big, s3_bucket):
    """Through s3:// read here (pyarrow's S3 filesystem) and by Ray Data. Spark needs the hadoop-aws
    jars for s3a://, which the test machine cannot download: not tested."""
    want = _report([str(big["sorted"]), "--engine", "local"])
    assert _report([s3_bucket, "--engine", "local"]) == want
    assert _report([s3_bucket, "--engine", "ray"]) == want


def _one_error_line(args):
    from tests.conftest import run_cli

    got = run_cli(["check", *args, "--no-probe"])
    assert got.code == 2 and "Traceback" not in got.stderr, got.stderr[-2000:]
    lines = [line for line in got.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, got.stderr[-2000:]
    return lines[0]


def test_engine_failures_while_reading_are_one_line_naming_the_file(spark, ray_data, tmp_path):
    d = tmp_path / "ragged"
    d.mkdir()
    (d / "part-0.csv").write_text("a,label\n" + "1.0,0\n" * 50)
    (d / "part-1.csv").write_text("a,label\n" + "1.0,0\n" * 10 + "1,2,3\n")
    for engine in ("spark", "ray"):
        line = _one_error_line([str(d), "--engine", engine])
        assert line.startswith(f"error: {d}: the engine failed reading it: ") and "part-1.csv" in line, line
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    pd.DataFrame({"a": [1.0, 2.0], "label": [0, 1]}).to_csv(mixed / "a.csv", index=False)
    pd.DataFrame({"a": [1.0, 2.0], "label": [0, 1]}).to_parquet(mixed / "b.parquet", index=False)
    for engine in ("spark", "ray"):
        assert _one_error_line([str(mixed), "--engine", engine]) == (
            f"error: {mixed}: mixes shards of csv and parquet (a.csv, b.parquet); Spark and Ray read one kind: "
            "use --engine local, or keep one kind")


def test_tsv_shards_and_a_column_named_path_read_alike_everywhere(spark, ray_data, tmp_path):
    rng = np.random.default_rng(5)
    d = tmp_path / "tsv"
    d.mkdir()
    for i in range(2):
        pd.DataFrame({"path": [f"img/{i}/{k}.png" for k in range(3000)], "a": rng.normal(50, 10, 3000),
                      "label": np.full(3000, i)}).to_csv(d / f"part-{i}.tsv", sep="\t", index=False)
    want = _report([str(d), "--engine", "local"])
    assert [c for c, _, _ in want] == ["PF101", "PF205"]
    assert _report([str(d), "--engine", "spark"]) == want
    got = _report([str(d), "--engine", "ray"])
    assert [c for c, _, _ in got] == ["PF101", "PF205"] and got[0] == want[0]
    assert got[1][2].startswith("4 of 4 shards (100% of rows) each hold essentially one class: block 1 (0: 100%)")
    ds, files = engines._ray_read(str(d), None)
    assert files is None and "path" in ds.schema().names  # the user's column kept: shards are blocks then


def test_hive_folders_by_label_give_the_same_findings_everywhere(spark, ray_data, tmp_path):
    """What df.write.partitionBy("label") writes: one folder per class, the label only in the folder
    names. Local, Spark and Ray read the column from them, typed alike, and PF205 names the folders."""
    rng = np.random.default_rng(8)
    for label in (0, 1, 2):
        folder = tmp_path / "lake" / f"label={label}"
        folder.mkdir(parents=True)
        pd.DataFrame({"x": rng.normal(0, 1, 3000) + label}).to_parquet(folder / "part-0.parquet", index=False)
    want = _report([str(tmp_path / "lake"), "--engine", "local"])
    assert [c for c, _, _ in want] == ["PF205"]
    assert "label=0/part-0.parquet (0: 100%), label=1/part-0.parquet (1: 100%)" in want[0][2]
    for engine in ("spark", "ray"):
        assert _report([str(tmp_path / "lake"), "--engine", engine]) == want, engine


def test_compressed_csv_shards_read_the_same_rows_everywhere(spark, ray_data, tmp_path):
    import gzip

    rng = np.random.default_rng(9)
    d = tmp_path / "gz"
    d.mkdir()
    for i in range(2):
        part = pd.DataFrame({"a": rng.normal(40, 9, 2500), "label": np.full(2500, i)})
        (d / f"part-{i}.csv.gz").write_bytes(gzip.compress(part.to_csv(index=False).encode()))
    want = _report([str(d), "--engine", "local"])
    assert [c for c, _, _ in want] == ["PF101", "PF205"] and "part-0.csv.gz (0: 100%)" in want[1][2]
    for engine in ("spark", "ray"):
        assert _report([str(d), "--engine", engine]) == want, engine
