"""The golden helper fails on a missing or drifted golden unless PREFLIGHT_UPDATE_GOLDEN is set."""

from __future__ import annotations

import pytest

from tests.conftest import check_golden


def test_a_missing_golden_fails_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setitem(check_golden.__globals__, "UPDATE", False)
    golden = tmp_path / "new.txt"
    with pytest.raises(pytest.fail.Exception, match="PREFLIGHT_UPDATE_GOLDEN=1"):
        check_golden(golden, "output\n")
    assert not golden.exists()


def test_a_drifted_golden_fails_and_is_left_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setitem(check_golden.__globals__, "UPDATE", False)
    golden = tmp_path / "old.txt"
    golden.write_text("before\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="drifted"):
        check_golden(golden, "after\n")
    assert golden.read_text(encoding="utf-8") == "before\n"
    check_golden(golden, "before\n")  # an equal output passes


def test_the_update_variable_writes_missing_and_drifted_goldens(tmp_path, monkeypatch):
    monkeypatch.setitem(check_golden.__globals__, "UPDATE", True)
    for golden in (tmp_path / "new.txt", tmp_path / "old.txt"):
        if golden.name == "old.txt":
            golden.write_text("before\n", encoding="utf-8")
        check_golden(golden, "after\n")
        assert golden.read_text(encoding="utf-8") == "after\n"
