"""Every input format gives the same statistics and findings as the CSV it came from."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import preflight
from preflight.inputs.files import sniff_delimiter
from tests.conftest import ROOT, run_cli

HEART = ROOT / "examples" / "heart_rate.csv"


def findings(path, **kw):
    report = preflight.check(str(path), probe=False, **kw)
    return [(f.code, f.location.column, f.message) for f in report.findings]


@pytest.fixture
def heart():
    return pl.read_csv(HEART)


def test_parquet_gives_the_csv_findings(tmp_path, heart):
    heart.write_parquet(tmp_path / "hr.parquet")
    assert findings(tmp_path / "hr.parquet") == findings(HEART)


@pytest.mark.parametrize("sep,name", [(";", "semi.csv"), ("\t", "tab.tsv"), ("|", "pipe.csv")])
def test_delimiters_are_sniffed(tmp_path, heart, sep, name):
    heart.write_csv(tmp_path / name, separator=sep)
    assert findings(tmp_path / name) == findings(HEART)


def test_utf8_bom_is_stripped(tmp_path):
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + HEART.read_bytes())
    report = preflight.check(str(tmp_path / "bom.csv"), probe=False)
    assert report.summary["files"][0]["target"] == "label"
    assert [f.location.column for f in report.findings] == ["heart_rate"]


def test_npz_with_named_arrays(tmp_path, heart):
    np.savez(tmp_path / "hr.npz", X=heart["heart_rate"].to_numpy()[:, None], y=heart["label"].to_numpy())
    report = preflight.check(str(tmp_path / "hr.npz"), probe=False)
    (f,) = report.findings
    assert (f.code, f.location.column) == ("PF101", "x0")
    assert report.summary["files"][0]["target"] == "y"
    assert report.summary["files"][0]["target_reason"] == "the labels array 'y' given with the features"
    assert f.message == findings(HEART)[0][2]


def test_npy_matrix_without_labels_runs_target_free_rules(tmp_path):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(90, 300, 500), np.zeros(500), rng.normal(size=500)])
    np.save(tmp_path / "m.npy", X)
    report = preflight.check(str(tmp_path / "m.npy"), probe=False)
    assert sorted((f.code, f.location.column) for f in report.findings) == [
        ("PF101", "x0"), ("PF102", "x0"), ("PF103", "x1")]
    # a column that is the row number (an index saved with the matrix) is PF105's, not an unscaled feature
    np.save(tmp_path / "indexed.npy", np.column_stack([np.arange(500.0), X[:, 2]]))
    report = preflight.check(str(tmp_path / "indexed.npy"), probe=False)
    assert [(f.code, f.location.column) for f in report.findings] == [("PF105", "x0")]


def test_pickled_npy_is_refused_not_loaded(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(preflight.PreflightError, match="never unpickles"):
        preflight.check(str(tmp_path / "obj.npy"), probe=False)


def test_tensor_and_array_inputs_take_labels(heart):
    import torch  # a hard dependency: missing, this fails rather than skips

    X = heart["heart_rate"].to_numpy()[:, None]
    y = heart["label"].to_numpy()
    for obj, labels in ((X, y), (torch.tensor(X), torch.tensor(y))):
        report = preflight.check(obj, target=labels, probe=False)
        assert [(f.code, f.location.column) for f in report.findings] == [("PF101", "x0")]
        assert report.summary["files"][0]["task"] == "binary"


def test_directory_is_walked_recursively_in_a_stable_order(tmp_path, heart):
    (tmp_path / "b" / "c").mkdir(parents=True)
    heart.write_csv(tmp_path / "b" / "c" / "one.csv")
    heart.write_parquet(tmp_path / "b" / "two.parquet")
    (tmp_path / "notes.txt").write_text("not data")
    report = preflight.check(str(tmp_path), probe=False)
    assert [s["path"] for s in report.summary["files"]] == [
        str(tmp_path / "b" / "two.parquet"), str(tmp_path / "b" / "c" / "one.csv")]


def test_text_float_cells_nan_and_inf_are_numbers(tmp_path):
    (tmp_path / "f.csv").write_text("a,label\n" + "\n".join(
        f"{v},{i % 2}" for i, v in enumerate(["0.5", "nan", "inf", "-0.25", "Infinity"] * 20)) + "\n")
    (f,) = preflight.check(str(tmp_path / "f.csv"), probe=False).findings
    assert f.code == "PF104" and f.message.startswith("20 NaN, 40 +inf of 100 rows")


def test_mixed_column_beyond_the_inference_window_is_read_as_text(tmp_path):
    rows = [f"{i % 7},{i % 2}" for i in range(20_000)] + ["seven,1"]
    (tmp_path / "m.csv").write_text("a,label\n" + "\n".join(rows) + "\n")
    report = preflight.check(str(tmp_path / "m.csv"), probe=False)
    (summary,) = report.summary["files"]
    assert summary["column_kinds"]["text"] == ["a"]
    assert any("mixes numbers and text" in n for n in summary["notes"])


@pytest.mark.parametrize("text,sep", [("a,b\n1,2\n", ","), ("a;b\n1,5;2\n", ";"), ("a\tb\n1\t2\n", "\t"),
                                      ("single\n1\n2\n", ",")])
def test_sniff_delimiter(text, sep):
    assert sniff_delimiter(text) == sep


def test_the_summary_says_where_the_target_was_named(tmp_path, heart):
    df = heart.to_pandas()
    report = preflight.check(df, target="label", probe=False)
    assert report.summary["files"][0]["target_reason"] == "given with target="
    (tmp_path / "preflight.toml").write_text('target = "label"\n')
    report = preflight.check(str(HEART), probe=False, config=tmp_path / "preflight.toml")
    assert report.summary["files"][0]["target_reason"] == f"given with target in {tmp_path / 'preflight.toml'}"
    with pytest.raises(preflight.PreflightError, match="no column named 'lbl' for target="):
        preflight.check(df, target="lbl", probe=False)


def test_a_column_name_as_target_for_an_array_is_refused(heart):
    with pytest.raises(preflight.PreflightError, match="an array has none"):
        preflight.check(heart.to_numpy()[:, :1], target="label", probe=False)


def test_a_npy_header_numpy_cannot_tokenize_is_one_line(tmp_path):
    """An unbalanced header tuple reaches numpy's header parser, which raises tokenize.TokenError."""
    good = tmp_path / "ok.npy"
    np.save(good, np.zeros(3))
    bad = tmp_path / "hdr.npy"
    bad.write_bytes(good.read_bytes().replace(b"(3,)", b"(999"))
    r = run_cli(["check", "--no-probe", str(bad)])
    assert r.code == 2 and "is not a readable NumPy file" in r.stderr and "internal error" not in r.stderr


def test_a_notebook_that_is_not_utf8_is_named_as_json(tmp_path):
    nb = tmp_path / "nb.ipynb"
    nb.write_bytes(b'{"cells": [], "x": "\xff"}')
    r = run_cli(["check", "--no-probe", str(nb)])
    assert r.code == 2 and "is not UTF-8 JSON" in r.stderr and "coding" not in r.stderr
