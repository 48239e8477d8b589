"""The streamed record check of CSV files (``preflight.inputs.csv_records``) against Python's csv
module, with blocks as small as a few bytes so that every record, quote and CRLF crosses a boundary."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from preflight.errors import PreflightError
from preflight.inputs import csv_records
from preflight.inputs.csv_records import check_records


def _field() -> st.SearchStrategy[str]:
    plain = st.text(alphabet="ab1.-", min_size=0, max_size=4)
    quoted = st.text(alphabet='ab,"\n ', min_size=0, max_size=6).map(lambda s: '"' + s.replace('"', '""') + '"')
    return st.one_of(plain, quoted)


@st.composite
def tables(draw) -> tuple[str, int | None]:
    """(CSV text, the 0-based index of the ragged data row or None)."""
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(_field(), min_size=width, max_size=width), min_size=1, max_size=8))
    ragged = draw(st.one_of(st.none(), st.integers(0, len(rows) - 1)))
    if ragged is not None:
        row = rows[ragged]
        rows[ragged] = row[:-1] if len(row) > 1 and draw(st.booleans()) else [*row, "x"]
        if not ",".join(rows[ragged]):
            ragged = None  # a blank line is no record (to the csv module nor to polars)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(f"h{i}" for i in range(width))] + [",".join(r) for r in rows]
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    return text, ragged


def _expected(text: str) -> str | None:
    """What the csv module says: the first record whose field count differs from the header's, as
    'line N has K' (N the line the record starts on), or None."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    start = reader.line_num + 1
    for row in reader:
        if row and len(row) != len(header):
            return f"line {start} has {len(row)} field"
        start = reader.line_num + 1
    return None


@settings(max_examples=120, deadline=None)
@given(table=tables(), block=st.sampled_from([1, 2, 3, 7, 64, 4 << 20]))
@example(table=("h0,h1,h2\n,", 0), block=1)  # a row of two empty fields is a record, not a blank line
@example(table=("h0,h1\r\n\r\n,", None), block=1)  # a blank CRLF line whose CR ends a block is blank
def test_ragged_records_are_found_as_the_csv_module_finds_them(table, block):
    text, ragged = table
    before = csv_records.BLOCK_BYTES
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(text.encode())
        expected = _expected(text)
        csv_records.BLOCK_BYTES = block
        try:
            if expected is None:
                check_records(path, ",", "t.csv")
            else:
                with pytest.raises(PreflightError) as info:
                    check_records(path, ",", "t.csv")
                assert expected in info.value.format_message()
        finally:
            csv_records.BLOCK_BYTES = before
    assert (expected is None) == (ragged is None)  # the generator made the row ragged, or did not


@pytest.mark.parametrize("block", [1, 5, 4 << 20])
def test_an_unclosed_quote_is_named_by_the_line_it_opens_on(tmp_path, monkeypatch, block):
    monkeypatch.setattr(csv_records, "BLOCK_BYTES", block)
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,2\n"x\ny",3\n4,"5\n6,7\n')
    with pytest.raises(PreflightError, match="opened in the record starting at line 5 and never closed"):
        check_records(path, ",", "q.csv")


@pytest.mark.parametrize("block", [3, 4 << 20])
def test_blank_lines_and_a_final_record_without_newline_are_read(tmp_path, monkeypatch, block):
    monkeypatch.setattr(csv_records, "BLOCK_BYTES", block)
    path = tmp_path / "b.csv"
    path.write_text("a;b\r\n1;2\r\n\r\n\n3;4")
    check_records(path, ";", "b.csv")  # nothing to report
    path.write_text("a;b\r\n1;2\r\n\r\n\n3")
    with pytest.raises(PreflightError, match="line 5 has 1 field where the header has 2"):
        check_records(path, ";", "b.csv")


def test_a_record_over_the_limit_is_refused_and_one_under_it_read(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_records, "MAX_RECORD_BYTES", 100)
    monkeypatch.setattr(csv_records, "BLOCK_BYTES", 16)
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "1," + "x" * 98 + "\n")  # 100 bytes: at the limit
    check_records(path, ",", "long.csv")
    path.write_text("a,b\n" + "1,2\n" + '1,"' + "x" * 120 + '"\n')
    with pytest.raises(PreflightError, match=r"has a record longer than .* starting at line 3"):
        check_records(path, ",", "long.csv")


def test_a_header_wider_than_the_column_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_records, "MAX_COLUMNS", 10)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f'"c,{i}"' for i in range(10)) + "\n" + ",".join("1" * 10) + "\n")
    check_records(path, ",", "wide.csv")  # 10 columns (their quoted commas are no delimiters)
    path.write_text(",".join(f"c{i}" for i in range(11)) + "\n")
    with pytest.raises(PreflightError, match="has 11 columns"):
        check_records(path, ",", "wide.csv")


# --- the plain-file path: no quote, so only the field counts are left to the reader -----------------------

@st.composite
def plain_tables(draw) -> str:
    """An unquoted CSV: numbers and empty fields, maybe a short or long row, blank lines, CRLF."""
    width = draw(st.integers(1, 4))
    cell = st.one_of(st.just(""), st.integers(-99, 99).map(str), st.sampled_from(["1.5", "nan", "x"]))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = rows[i][:-1] if draw(st.booleans()) else [*rows[i], draw(st.sampled_from(["7", ""]))]
    lines = [",".join(f"h{i}" for i in range(width))] + [",".join(r) for r in rows]
    for _ in range(draw(st.integers(0, 2))):
        lines.insert(draw(st.integers(1, len(lines))), "")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + (eol if draw(st.booleans()) else "")


def _outcome(path: Path) -> str:
    from preflight.inputs import read_path
    from preflight.inputs.options import ReadOptions

    try:
        subject = read_path(path, ReadOptions())
    except PreflightError as exc:
        return f"error: {exc}"
    return f"read {subject.stats.n_rows} rows"


@settings(max_examples=150, deadline=None)
@given(text=plain_tables())
def test_a_plain_file_reads_and_fails_exactly_as_with_the_whole_pass_first(text):
    """Leaving the field counts to the reader changes nothing a user sees: the same error line (a ragged
    row named by its line) or the same table as the whole record pass before polars reads."""
    from unittest import mock

    from preflight.inputs import files

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(text.encode())
        fast = _outcome(path)  # plain_records decides which path (a blank first line: the whole pass)
        with mock.patch.object(files, "plain_records", return_value=False):
            whole = _outcome(path)
    assert fast == whole


def test_a_short_row_far_past_the_first_batch_is_named_by_its_line(tmp_path):
    from preflight.inputs import files

    rows = ["a,b,label"] + [f"{i},{i % 7},{i % 2}" for i in range(250_000)]
    rows[200_001] = "5,6"  # line 200,002: in the third batch of 100,000 rows
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    assert files.BATCH_ROWS < 200_000 and csv_records.plain_records(path, ",", str(path))
    assert _outcome(path) == (f"error: {path}: line 200002 has 2 fields where the header has 3 (ragged rows); "
                              "fill in the missing fields (an empty field still needs its delimiter)")
    rows[200_001] = "5,6,1,9"
    path.write_text("\n".join(rows) + "\n")
    assert _outcome(path).startswith(f"error: {path}: line 200002 has 4 fields where the header has 3")


@pytest.mark.parametrize("text", ["a,b,c\n1,2,3\n5,6,7,", "a,b,c\r\n1,2,3\r\n5,6,7,", "a\n1\n2,"])
def test_a_trailing_empty_field_on_a_last_line_without_newline_is_a_ragged_row(tmp_path, text):
    """polars drops one trailing empty field there without a word: the quote-free path checks it."""
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    assert not csv_records.plain_records(path, ",", "t.csv")
    lines = text.replace("\r", "").split("\n")
    assert _outcome(path).startswith(f"error: {path}: line {len(lines)} has ")


@pytest.mark.parametrize("option, value", [("target", "zz"), ("task", "binary")])
def test_a_short_row_is_named_before_the_errors_reading_finds_later(tmp_path, option, value):
    """The quote-free path leaves field counts to the reader; a ragged row is still the first error."""
    from preflight.inputs import read_path
    from preflight.inputs.options import ReadOptions

    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,0\n3,4\n5,6,1\n7,8,2\n")
    with pytest.raises(PreflightError, match="line 3 has 2 fields where the header has 3"):
        read_path(path, ReadOptions(**{option: value}))


def test_the_plain_path_needs_no_quote_and_a_newline_in_every_block(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_records, "BLOCK_BYTES", 16)
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    assert csv_records.plain_records(path, ",", "t.csv")
    path.write_text('a,b\n1,"2"\n')
    assert not csv_records.plain_records(path, ",", "t.csv")  # a quote: the whole pass runs first
    path.write_text("a,b\n" + "1" * 40 + ",2\n")
    assert not csv_records.plain_records(path, ",", "t.csv")  # a block without a newline
    path.write_text("\na,b\n1,2\n")
    assert not csv_records.plain_records(path, ",", "t.csv")  # a blank first line: the header comes later
    monkeypatch.setattr(csv_records, "MAX_COLUMNS", 3)
    path.write_text("a,b,c,d\n1,2,3,4\n")
    with pytest.raises(PreflightError, match="has 4 columns"):
        csv_records.plain_records(path, ",", "t.csv")
