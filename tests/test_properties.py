"""Properties across the code (hypothesis): no frame crashes a rule, statistics do not depend on the
batch size, and the JSON output carries every finding the text output shows."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import preflight
from preflight.checks import RULES_BY_CODE
from preflight.cli import cli
from preflight.inputs.options import ReadOptions
from preflight.inputs.tabular import batched, scan_table

NAMES = st.sampled_from(["a", "b", "x0", "label", "target", "y", "class", "^a.*$", "", " ", "é", "a_duplicated_0",
                         "1", "null", "NaN"])
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
CELL_KINDS = {
    "float": ANY_FLOAT,
    "small": st.floats(-1e3, 1e3, allow_nan=False),
    "int": st.integers(-(2**63), 2**63 - 1),
    "bool": st.booleans(),
    "text": st.text(max_size=5),
    "class": st.sampled_from([0, 1, 2]),
    "mixed": st.one_of(st.none(), ANY_FLOAT, st.text(max_size=3), st.integers(-5, 5)),
}


@st.composite
def frames(draw, min_rows: int = 1) -> pd.DataFrame:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    n = draw(st.integers(min_rows, 40))
    data = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(CELL_KINDS)))
        cells = draw(st.lists(CELL_KINDS[kind], min_size=n, max_size=n))
        if kind != "mixed" and draw(st.booleans()):  # some missing cells
            holes = draw(st.sets(st.integers(0, n - 1), max_size=n))
            cells = [None if i in holes else v for i, v in enumerate(cells)]
        data[name] = pd.Series(cells, dtype="object" if kind in ("text", "mixed") or None in cells else None)
    return pd.DataFrame(data)


# The quick set runs each costly property with a few dozen examples; the `slow` set (CI) with many.
EXAMPLES = [40, pytest.param(300, marks=pytest.mark.slow, id="300")]


@pytest.mark.parametrize("examples", EXAMPLES, ids=str)
def test_no_frame_crashes_a_rule(examples):
    settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
        given(frames())(_no_frame_crashes_a_rule))()


def _no_frame_crashes_a_rule(df):
    report = preflight.check(df, probe=False, config={})
    assert report.errors == ()
    for f in report.findings:
        assert f.code in RULES_BY_CODE
        assert f.location.column is None or f.location.column in {str(c) for c in df.columns}
        assert "nan (std" not in f.message  # a constant is never reported as NaN
    parsed = json.loads(report.to_json())  # allow_nan=False: no NaN or inf may reach the JSON
    assert len(parsed["findings"]) == len(report.findings)
    assert parsed["summary"]["files"][0]["rows"] == len(df)
    str(report)  # the text rendering does not raise either


# --- the streamed pass equals the whole -------------------------------------------------------------

@st.composite
def polars_frames(draw) -> pl.DataFrame:
    n = draw(st.integers(1, 120))
    ncols = draw(st.integers(1, 4))
    cols = {}
    for i in range(ncols):
        kind = draw(st.sampled_from(["float", "small", "int", "bool"]))
        values = draw(st.lists(CELL_KINDS[kind] if kind != "int" else st.integers(-10**12, 10**12),
                               min_size=n, max_size=n))
        holes = draw(st.sets(st.integers(0, n - 1), max_size=n // 3))
        values = [None if j in holes else v for j, v in enumerate(values)]
        dtype = {"float": pl.Float64, "small": pl.Float64, "int": pl.Int64, "bool": pl.Boolean}[kind]
        cols[f"f{i}"] = pl.Series(values, dtype=dtype)
    labels = draw(st.lists(st.one_of(st.none(), st.sampled_from([0, 1, 2])), min_size=n, max_size=n))
    cols["label"] = pl.Series(labels, dtype=pl.Int64)
    return pl.DataFrame(cols)


def _scan(frame: pl.DataFrame, size: int | None):
    batches = [frame] if size is None else batched(frame, size)
    return scan_table(batches, frame.schema, path=None, display="<frame>", options=ReadOptions(target="label"))


def _close(a: float, b: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * scale + 1e-300


def _finite_scale(column: pl.Series) -> float:
    values = column.cast(pl.Float64).drop_nulls().to_numpy()
    values = values[np.isfinite(values)]
    return float(np.max(np.abs(values), initial=0.0))


@pytest.mark.parametrize("examples", EXAMPLES, ids=str)
def test_statistics_do_not_depend_on_the_batch_size(examples):
    settings(max_examples=examples, deadline=None)(given(polars_frames(), st.integers(1, 130))(_batch_size))()


def _batch_size(frame, size):
    whole, parts = _scan(frame, None), _scan(frame, size)
    mw, mp = whole.stats.moments, parts.stats.moments
    for field in ("n", "missing", "nonfinite", "pos_inf", "neg_inf"):  # counts: exact
        assert np.array_equal(getattr(mw, field), getattr(mp, field)), field
    assert np.array_equal(mw.min, mp.min, equal_nan=True) and np.array_equal(mw.max, mp.max, equal_nan=True)
    for i, name in enumerate(whole.stats.numeric):
        # the tolerance scales with the largest finite value (min/max are inf when the column holds inf,
        # and an infinite scale would accept any two means)
        scale = _finite_scale(frame[name])
        assert _close(float(mw.mean[i]), float(mp.mean[i]), scale), (name, mw.mean[i], mp.mean[i])
        assert _close(float(mw.std[i]), float(mp.std[i]), scale * 10), (name, mw.std[i], mp.std[i])
    assert [c.kind for c in whole.columns] == [c.kind for c in parts.columns]
    assert whole.stats.target_runs == parts.stats.target_runs
    assert whole.stats.target_counts.counts == parts.stats.target_counts.counts
    assert whole.stats.target_missing == parts.stats.target_missing
    assert whole.stats.first_bad == parts.stats.first_bad
    assert whole.task == parts.task
    if whole.sample is None:
        assert parts.sample is None
    else:
        assert np.array_equal(whole.sample.rows, parts.sample.rows)
        assert np.array_equal(whole.sample.X, parts.sample.X, equal_nan=True)


# --- JSON carries every finding the text shows --------------------------------------------------------

FINDING_LINE = re.compile(r"^(?P<path>\S+): (?P<code>PF\d{3}) (?P<name>[a-z0-9-]+)(?: \[(?P<column>[^\]]*)\])?"
                          r"(?: \((?:info|error)\))? (?P<message>.*)$")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(min_rows=2))
def test_json_output_carries_every_finding_the_text_shows(df):
    df.columns = [f"c{i}_{re.sub(r'[^a-z0-9]', '', str(c))}" if str(c) != "label" else "label"
                  for i, c in enumerate(df.columns)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False)
        runner = CliRunner()
        text = runner.invoke(cli, ["check", "--no-probe", "-v", str(path)], catch_exceptions=False)
        js = runner.invoke(cli, ["check", "--no-probe", "--format", "json", str(path)], catch_exceptions=False)
    assert text.exit_code == js.exit_code
    parsed = json.loads(js.stdout)
    if text.exit_code == 2:  # unreadable (e.g. a header and no rows): both name the error, neither has findings
        assert parsed["errors"] and parsed["findings"] == []
        assert text.stderr.splitlines() == [f"error: {e['message']}" for e in parsed["errors"]]
        assert not [line for line in text.stdout.splitlines() if FINDING_LINE.match(line)]
        return
    assert parsed["errors"] == []
    shown = shown_findings(text.stdout)
    carried = [{"path": f["path"], "code": f["code"], "name": f["name"], "column": f["column"],
                "message": f["message"]} for f in parsed["findings"]]
    assert shown == carried
    assert len(parsed["findings"]) == sum(parsed["summary"]["counts"].values())


COLUMN_LINE = re.compile(r"^    \[(?P<column>[^\]]*)\] (?P<message>.*)$")


def shown_findings(stdout: str) -> list[dict]:
    """The findings a ``-v`` text report shows, one per column: a line naming several columns is
    followed by one ``    [column] message`` line for each."""
    entries: list[tuple[dict, list[dict]]] = []
    for line in stdout.splitlines():
        if m := FINDING_LINE.match(line):
            entries.append((m.groupdict(), []))
        elif (c := COLUMN_LINE.match(line)) and entries:
            entries[-1][1].append(c.groupdict())
    return [dict(head, **column) for head, columns in entries for column in (columns or [{}])]


def test_the_line_pattern_matches_a_known_finding():
    """Guards the property above against a pattern that silently matches nothing."""
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--no-probe", "examples/heart_rate.csv"]).stdout
    assert [m.group("code") for m in map(FINDING_LINE.match, out.splitlines()) if m] == ["PF101"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_extreme_values_merge_like_the_whole(size):
    """The overflow paths (values near 1e308) merge across batches like the whole frame."""
    frame = pl.DataFrame({"a": [1e308, -1e308, 1.7976931348623157e308, 0.0] * 8,
                          "b": [1e-308, -1e-308, 5e-324, 0.0] * 8, "label": [0, 1] * 16})
    whole, parts = _scan(frame, None), _scan(frame, size)
    assert math.isfinite(whole.stats.column("a")["mean"])
    assert _close(whole.stats.column("a")["mean"], parts.stats.column("a")["mean"], 1.8e308)
    assert whole.stats.column("a")["std"] == parts.stats.column("a")["std"] == math.inf
