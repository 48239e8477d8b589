"""Tables read as shards (``--engine local``, ``preflight.inputs.dataset``) and PF205, label-sorted shards:
the per-shard target statistics (``preflight.stats.shards``), the rule, the reader's errors, and the
probe's local shuffle buffer."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import preflight
from preflight.errors import PreflightError
from preflight.inputs.dataset import dataset_subject, shard_name
from preflight.inputs.options import ReadOptions
from preflight.probes.data import batch_plan, local_shuffle
from preflight.stats.shards import ShardStats, label_purity, target_bands
from tests.conftest import run_cli


def write_shards(folder, frame: pd.DataFrame, shards: int, suffix: str = ".parquet") -> list:
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(frame) // shards)
    paths = []
    for i in range(shards):
        part = frame.iloc[i * per:(i + 1) * per]
        path = folder / f"part-{i:05d}{suffix}"
        part.to_parquet(path, index=False) if suffix == ".parquet" else part.to_csv(path, index=False)
        paths.append(path)
    return paths


def table(n: int = 40_000, classes: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    return pd.DataFrame({"a": y + rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "label": y})


def check(folder, *extra: str) -> tuple[int, list[dict]]:
    got = run_cli(["check", str(folder), "--engine", "local", "--no-probe", "--format", "json", *extra])
    assert got.code in (0, 1), got.stderr
    return got.code, json.loads(got.stdout)["findings"]


def codes(findings: list[dict]) -> list[str]:
    return sorted(f["code"] for f in findings)


# --- the rule on the three orders the issue names ----------------------------------------------

def test_shards_sorted_by_label_fire_and_name_the_shards(tmp_path):
    t = table().sort_values("label", kind="stable")
    write_shards(tmp_path / "d", t, 20)
    code, found = check(tmp_path / "d")
    assert code == 1 and codes(found) == ["PF205"]  # PF201 (the same order, row by row) is superseded
    msg = found[0]["message"]
    # 20,033 rows of class 0: the shard where the classes meet holds 33 of them, still 98% one class
    assert msg.startswith("20 of 20 shards (100% of rows) each hold essentially one class: "
                          "part-00000.parquet (0: 100%)")
    assert "and 16 more" in msg and "median shard 2000 rows" in msg
    assert found[0]["column"] == "label"


def test_shards_shuffled_across_are_silent(tmp_path):
    write_shards(tmp_path / "d", table(), 20)
    assert check(tmp_path / "d") == (0, [])


def test_shards_sorted_within_but_mixed_across_are_pf201s_case(tmp_path):
    """Each shard holds every class, sorted inside it: a shuffle buffer mixes classes, so no PF205;
    the rows' order is still clustered, and PF201 says so."""
    t = table()
    per = len(t) // 20
    within = pd.concat(t.iloc[i * per:(i + 1) * per].sort_values("label", kind="stable") for i in range(20))
    write_shards(tmp_path / "d", within, 20)
    assert codes(check(tmp_path / "d")[1]) == ["PF201"]


def test_without_an_engine_each_shard_is_its_own_file(tmp_path):
    write_shards(tmp_path / "d", table().sort_values("label", kind="stable"), 4)
    got = run_cli(["check", str(tmp_path / "d"), "--no-probe", "--format", "json"])
    assert got.code in (0, 1) and "PF205" not in got.stdout
    assert len(json.loads(got.stdout)["summary"]["files"]) == 4


def test_an_imbalanced_table_cut_at_random_is_silent_however_pure_its_shards_look(tmp_path):
    """99% of one class: random shards of 1,000 rows are often all majority by chance (0.99^1000 is
    small, but shards of 300 are not), and one shard of the rare class cannot be sorted by chance."""
    rng = np.random.default_rng(3)
    n = 30_000
    y = (rng.random(n) < 0.01).astype(int)
    write_shards(tmp_path / "d", pd.DataFrame({"a": rng.normal(0, 1, n), "label": y}), 100)
    assert check(tmp_path / "d", "--select", "PF205") == (0, [])


def test_shards_of_one_class_each_fire_however_imbalanced(tmp_path):
    """The rare class in shards of its own: 3 of 30 shards, each pure, and 27 of the common class."""
    rng = np.random.default_rng(4)
    n = 30_000
    y = np.zeros(n, dtype=int)
    y[:3000] = 1
    write_shards(tmp_path / "d", pd.DataFrame({"a": rng.normal(0, 1, n), "label": y}), 30)
    code, found = check(tmp_path / "d", "--select", "PF205")
    assert code == 1 and "30 of 30 shards (100% of rows)" in found[0]["message"]


def test_small_shards_do_not_count(tmp_path):
    """Shards of 200 rows, each one class: a 1,000-row shuffle buffer mixes five of them."""
    t = table(8000).sort_values("label", kind="stable")
    write_shards(tmp_path / "d", t, 40)
    assert check(tmp_path / "d", "--select", "PF205") == (0, [])
    lower = _config(tmp_path, "min_shard_rows = 100")
    assert check(tmp_path / "d", "--select", "PF205", "--config", str(lower))[0] == 1


def _config(tmp_path, line: str):
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.preflight.PF205]\n{line}\n", encoding="utf-8")
    return path


def test_a_regression_target_in_bands_fires_and_a_time_ordered_one_is_left_alone(tmp_path):
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.normal(0, 1, n)
    price = x + 0.3 * rng.normal(0, 1, n)
    order = np.argsort(price)
    write_shards(tmp_path / "bands", pd.DataFrame({"x": x[order], "target": price[order]}), 10)
    found = check(tmp_path / "bands")[1]
    assert codes(found) == ["PF205"]  # PF202 superseded
    assert "the 10 shards each hold a narrow band of the target" in found[0]["message"]
    days = pd.date_range("2020-01-01", periods=n, freq="h")
    write_shards(tmp_path / "series", pd.DataFrame({"date": days, "x": x, "target": np.sort(price)}), 10)
    assert "PF205" not in codes(check(tmp_path / "series")[1])


# --- the statistics ---------------------------------------------------------------------------

@st.composite
def pieces(draw):
    """A table of labelled shards, cut into pieces that may split a shard, in a shuffled order."""
    n = draw(st.integers(2, 300))
    labels = np.asarray(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    shard = np.sort(np.asarray(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))))
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=8))))
    bounds = list(zip([0, *cuts], [*cuts, n]))
    order = draw(st.permutations(range(len(bounds))))
    return labels, shard, [bounds[i] for i in order]


@settings(max_examples=80, deadline=None)
@given(pieces())
def test_shard_statistics_are_the_same_however_cut_and_ordered(case):
    labels, shard, bounds = case
    whole = ShardStats()
    for s in np.unique(shard):
        whole.add(f"s{s}", labels[shard == s])
    merged = ShardStats()
    for a, b in bounds:
        part = ShardStats()
        for s in np.unique(shard[a:b]):
            part.add(f"s{s}", labels[a:b][shard[a:b] == s])
        merged = merged.merged(part)
    assert set(merged.shards) == set(whole.shards)
    for name, w in whole.shards.items():
        m = merged.shards[name]
        assert m.n == w.n and m.labels == w.labels and m.count == w.count
        assert m.mean == pytest.approx(w.mean, abs=1e-9) and m.m2 == pytest.approx(w.m2, rel=1e-9, abs=1e-9)
    assert label_purity(merged) == label_purity(whole)


def test_label_purity_and_target_bands_by_hand():
    stats = ShardStats()
    stats.add("b", np.array([1] * 900 + [0] * 100))
    stats.add("a", np.array([0] * 1000))
    stats.add("c", np.array([0, 1] * 500))
    p = label_purity(stats)
    assert p is not None
    # "a": class 0 at 100% where the table holds 1600/3000 zeros -> excess 1; "b": class 1 at 90%,
    # p = 1400/3000 -> excess (0.9 - 0.4667) / 0.5333 = 0.8125; "c" 50% of its majority: no
    assert [(n, label) for n, label, _, _ in p.sorted_shards] == [("a", 0), ("b", 1)]
    assert p.sorted_rows == 2000 and p.rows == 3000 and p.classes == 2
    assert p.table_share == pytest.approx(1600 / 3000)
    strict = label_purity(stats, excess=0.85)
    assert strict is not None and [t[0] for t in strict.sorted_shards] == ["a"]
    big = label_purity(stats, min_rows=1001)  # every shard holds 1,000 rows: none counts
    assert big is not None and big.sorted_shards == () and big.sorted_rows == 0 and big.classes == 0
    bands = ShardStats()
    bands.add("lo", np.array([0.0, 1.0, 2.0]))
    bands.add("hi", np.array([10.0, 11.0, 12.0]))
    b = target_bands(bands)
    # within: 2 + 2 = 4; total: 4 + 3 * 5^2 * 2 = 154
    assert b is not None and b.within == pytest.approx(4 / 154)


def test_a_shard_with_too_many_labels_leaves_purity_unjudged():
    stats = ShardStats()
    stats.add("a", np.arange(100.0))
    stats.add("b", np.zeros(10))
    assert stats.shards["a"].labels is None and label_purity(stats) is None
    assert target_bands(stats) is not None


def test_merged_partition_statistics_keep_each_shard(tmp_path):
    t = table(6000).sort_values("label", kind="stable")
    layout = preflight.table_layout({"a": __import__("polars").Float64, "b": __import__("polars").Float64,
                                     "label": __import__("polars").Int64}, "label")
    parts = [preflight.partition_statistics(t.iloc[i:i + 1500], layout, origin=i, shard=f"s{i // 3000}")
             for i in range(0, 6000, 1500)]
    merged = preflight.merge_statistics(*parts)
    y = t["label"].to_numpy()
    assert {k: (s.n, s.labels) for k, s in merged.shards.shards.items()} == {
        "s0": (3000, Counter(y[:3000].tolist())), "s1": (3000, Counter(y[3000:].tolist()))}
    assert merged.shards.shards["s0"].labels[1] > 0 or merged.shards.shards["s1"].labels[0] > 0  # a mixed shard


# --- the reader -------------------------------------------------------------------------------

def test_the_shards_give_the_statistics_of_the_table_concatenated(tmp_path):
    t = table(9000, classes=3)
    write_shards(tmp_path / "d", t, 7, ".csv")
    got = dataset_subject(str(tmp_path / "d"), ReadOptions(target="label"))
    one = tmp_path / "all.csv"
    t.to_csv(one, index=False)
    from preflight.inputs import read_path

    want = read_path(one, ReadOptions(target="label"))
    assert got.stats.n_rows == 9000 and got.stats.target_runs == want.stats.target_runs
    np.testing.assert_allclose(got.stats.moments.mean, want.stats.moments.mean, rtol=1e-12)
    np.testing.assert_array_equal(got.sample.rows, want.sample.rows)  # origins known: the one-pass sample
    assert list(got.stats.shards.shards) == [f"part-{i:05d}.csv" for i in range(7)]
    assert sum(s.n for s in got.stats.shards.shards.values()) == 9000


def test_a_shard_with_other_columns_is_one_line_naming_it(tmp_path):
    d = tmp_path / "d"
    write_shards(d, table(3000), 3)
    table(100).rename(columns={"b": "c"}).to_parquet(d / "part-00009.parquet", index=False)
    got = run_cli(["check", str(d), "--engine", "local", "--no-probe"])
    assert got.code == 2 and "Traceback" not in got.stderr
    (line,) = got.stderr.strip().splitlines()
    assert "part-00009.parquet" in line and "other columns than the first shard 'part-00000.parquet'" in line
    assert "lacks 'b'" in line


def test_the_same_columns_in_another_order_are_read_by_name(tmp_path):
    d = tmp_path / "d"
    write_shards(d, table(4000), 2)
    t = table(2000, seed=9)
    t[["label", "b", "a"]].to_parquet(d / "part-00002.parquet", index=False)
    subject = dataset_subject(str(d), ReadOptions())
    assert [c.name for c in subject.columns] == ["a", "b", "label"] and subject.stats.n_rows == 6000
    assert subject.stats.target_counts.counts == Counter(
        [*table(4000)["label"].tolist(), *t["label"].tolist()])


def test_a_column_typed_differently_is_cast_or_named(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    pd.DataFrame({"a": [1, 2, 3] * 10, "label": [0, 1, 0] * 10}).to_csv(d / "p0.csv", index=False)
    pd.DataFrame({"a": [1.5, 2.5, 3.5] * 10, "label": [1, 0, 1] * 10}).to_csv(d / "p1.csv", index=False)
    subject = dataset_subject(str(d), ReadOptions())
    assert subject.stats.column("a")["n"] == 60
    assert subject.stats.column("a")["mean"] == pytest.approx(2.25)  # read as float from p1 on, not truncated
    pd.DataFrame({"a": ["x", "y", "z"] * 10, "label": [1, 0, 1] * 10}).to_csv(d / "p2.csv", index=False)
    with pytest.raises(PreflightError, match=r"p2.csv: has column 'a' as String where the first shard 'p0.csv'"):
        dataset_subject(str(d), ReadOptions())


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "no such file or directory"),
    (lambda d: (d.mkdir(), (d / "train.py").write_text("x = 1\n")), "holds no CSV or Parquet shards"),
    (lambda d: (d.mkdir(), (d / "a.csv").write_text("a,label\n"), (d / "b.csv").write_text("a,label\n")),
     "has no rows in its 2 shards"),
])
def test_bad_folders_are_one_line(tmp_path, make, message):
    d = tmp_path / "d"
    make(d)
    got = run_cli(["check", str(d), "--engine", "local", "--no-probe"])
    assert got.code == 2 and "Traceback" not in got.stderr
    (line,) = got.stderr.strip().splitlines()
    assert str(d) in line and message.lower() in line.lower()


def test_a_first_shard_without_rows_does_not_type_the_table(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "part-0.csv").write_text("pulse,label\n")
    rng = np.random.default_rng(0)
    pd.DataFrame({"pulse": rng.normal(92, 12, 500), "label": rng.integers(0, 2, 500)}).to_csv(d / "part-1.csv",
                                                                                             index=False)
    code, found = check(d)
    assert code == 1 and codes(found) == ["PF101"]  # numbers, as the shard with rows says


def test_text_in_the_first_shard_and_numbers_later_is_read_as_text_with_a_note(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "part-0.csv").write_text("a,label\n" + "x,0\n" * 20)
    (d / "part-1.csv").write_text("a,label\n" + "1.5,1\n" * 20)
    (d / "part-2.csv").write_text("a,label\n" + "2.5,1\n" * 20)
    subject = dataset_subject(str(d), ReadOptions())
    assert [c.kind for c in subject.columns if c.name == "a"] == ["text"]
    said = [n for n in subject.notes if n.startswith("column 'a'")]  # once, not once a shard
    assert said == ["column 'a' is text in the first shard 'part-0.csv' and numbers in 'part-1.csv' (and maybe "
                    "others): read as text"]


def test_hive_folders_add_their_columns_and_hidden_or_underscore_paths_are_left_out(tmp_path):
    rng = np.random.default_rng(1)
    for label in (0, 1, 2):
        folder = tmp_path / "d" / f"label={label}"
        folder.mkdir(parents=True)
        pd.DataFrame({"x": rng.normal(0, 1, 2000)}).to_parquet(folder / "part-0.parquet", index=False)
    for junk in ("_temporary/0/part-9.parquet", ".hidden/part-8.parquet", "_part-7.parquet"):
        (tmp_path / "d" / junk).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"x": [1.0] * 5000}).to_parquet(tmp_path / "d" / junk, index=False)  # would make x constant
    subject = dataset_subject(str(tmp_path / "d"), ReadOptions(target="label"))
    assert subject.stats.n_rows == 6000 and subject.target == "label" and subject.task == "multiclass"
    assert list(subject.stats.shards.shards) == [f"label={k}/part-0.parquet" for k in (0, 1, 2)]
    code, found = check(tmp_path / "d", "--target", "label")
    assert code == 1 and codes(found) == ["PF205"] and "label=0/part-0.parquet (0: 100%)" in found[0]["message"]


def test_compressed_shards_are_read(tmp_path):
    import gzip

    d = tmp_path / "d"
    d.mkdir()
    t = table(4000).sort_values("label", kind="stable")
    for i in range(2):
        rows = t.iloc[i * 2000:(i + 1) * 2000].to_csv(index=False).encode()
        (d / f"part-{i}.csv.gz").write_bytes(gzip.compress(rows))
    subject = dataset_subject(str(d), ReadOptions())
    assert subject.stats.n_rows == 4000 and list(subject.stats.shards.shards) == ["part-0.csv.gz", "part-1.csv.gz"]


def test_runs_within_a_panels_blocks_stream_across_shards(tmp_path):
    """A panel (rows in day order within each of 200 blocks) with labels sorted within each block: cut
    into shards, the within-block runs test is the one-file test, not a recount on the sample."""
    rng = np.random.default_rng(2)
    blocks, per = 200, 50
    day = np.tile(np.arange(per), blocks)
    y = np.concatenate([np.sort(rng.integers(0, 2, per)) for _ in range(blocks)])
    frame = pd.DataFrame({"day": day, "x": rng.normal(0, 1, blocks * per), "label": y})
    one = tmp_path / "one.csv"
    frame.to_csv(one, index=False)
    write_shards(tmp_path / "d", frame, 10, ".csv")
    whole = run_cli(["check", str(one), "--no-probe", "--format", "json", "--select", "PF201"])
    want = [f["message"] for f in json.loads(whole.stdout)["findings"]]
    assert want and want[0].startswith("within each block of the panel (200 blocks")
    assert [f["message"] for f in check(tmp_path / "d", "--select", "PF201")[1]] == want


@pytest.mark.parametrize("raw, root, name", [
    ("/data/train/part-0.parquet", "/data/train", "part-0.parquet"),
    ("file:///data/train/part-0.parquet", "/data/train/", "part-0.parquet"),
    ("file:/data/train/a%20b.parquet", "/data/train", "a b.parquet"),
    ("s3a://bucket/train/x/part-1.parquet", "s3://bucket/train/", "x/part-1.parquet"),
    ("bucket/train/part-1.parquet", "s3://bucket/train", "part-1.parquet"),
    ("/data/train.parquet", "/data/train.parquet", "train.parquet"),
    ("/elsewhere/p.parquet", "/data/train", "elsewhere/p.parquet"),
    ("s3://b/data/part%3D1.parquet", "s3://b/data/", "part%3D1.parquet"),  # a key as listed: not decoded
    ("s3a://b/data/part%253D1.parquet", "s3://b/data/", "part%3D1.parquet"),  # Spark's URI of that key
    ("s3://b/data/p.parquet", "s3://b/data/?endpoint_override=localhost:9000", "p.parquet"),
])
def test_shard_names_are_the_same_whoever_lists_them(raw, root, name):
    assert shard_name(raw, root) == name


# --- the probe's stream -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 64), st.integers(0, 2**32 - 1))
def test_a_local_shuffle_is_a_permutation_that_never_reaches_ahead_of_its_buffer(n, buffer, seed):
    out = local_shuffle(n, buffer, np.random.default_rng(seed))
    assert sorted(out.tolist()) == list(range(n))
    b = min(buffer, n)
    assert np.all(out <= np.arange(n) + b - 1)  # the i-th row out entered the buffer by then
    if b == 1:
        np.testing.assert_array_equal(out, np.arange(n))


def test_the_buffer_variant_keeps_batches_of_one_class_where_a_full_shuffle_mixes_them():
    y = np.repeat([0, 1], 2000)
    plan = batch_plan(4000, 32, None, 1, [0], ("buffer", "shuffled"), buffer=64)
    single = [np.mean([len(set(y[b])) == 1 for b in plan[:, v]]) for v in (0, 1)]
    assert single[0] > 0.9 and single[1] == 0.0


def test_the_probe_trains_on_a_buffer_holding_the_tables_share_of_the_sample(tmp_path):
    from preflight.checks import RULES_BY_CODE

    write_shards(tmp_path / "d", table(50_000).sort_values("label", kind="stable"), 10)
    subject = dataset_subject(str(tmp_path / "d"), ReadOptions())
    fix = RULES_BY_CODE["PF205"].fix_for(subject)
    assert fix.buffer_share == pytest.approx(1000 / 50_000)
    assert fix.buffer_rows(4000) == 80


def test_the_probe_on_label_sorted_shards_reports_a_measurement(tmp_path):
    from tests.conftest import ROOT

    report = preflight.check(str(ROOT / "rules/PF205-label-sorted-shards/bad_shards"), engine="local")
    (finding,) = report.findings
    assert finding.code == "PF205" and finding.probe is not None
    assert finding.probe.as_is.setup == "rows in shard order through a local shuffle buffer"
    assert finding.probe.verdict == "confirmed"
    assert Counter(f.code for f in report.findings) == Counter({"PF205": 1})


def test_the_probe_command_reads_a_folder_as_one_table():
    from tests.conftest import ROOT

    got = run_cli(["probe", "--rule", "PF205", str(ROOT / "rules/PF205-label-sorted-shards/bad_shards"),
                   "--format", "json"])
    assert got.code == 0, got.stderr
    evidence = json.loads(got.stdout)
    assert evidence["rule"] == "PF205" and evidence["rows"] == {"train": 3750, "heldout": 1250}
    assert evidence["as_is"]["setup"] == "rows in shard order through a local shuffle buffer"


def test_an_unknown_engine_is_an_error_naming_the_engines(tmp_path):
    with pytest.raises(PreflightError, match="engine='dask' is not one of 'local', 'spark', 'ray'"):
        preflight.check(str(tmp_path), engine="dask")
