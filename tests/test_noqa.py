"""Suppression comments as ruff and flake8 users write them (issue 14): ``# noqa: PF301`` silences like
``# preflight: ignore[PF301]``, a bare ``# noqa`` silences no preflight rule (documented), an unknown code
in either is noted, and ``--report-unused-ignores`` notes each suppression that silenced nothing."""

from __future__ import annotations

import pytest

from preflight.config import Config
from preflight.engine import check_subject
from preflight.inputs.pysource import code_subject, noqa_codes, suppressions
from tests.conftest import ROOT, run_cli

BAD = (ROOT / "rules" / "PF301-sigmoid-before-bce-loss" / "bad.py").read_text()
LINE = "    loss = criterion(model(x).squeeze(1), y)"  # PF301 fires on line 11


def with_comment(comment: str) -> str:
    assert LINE in BAD
    return BAD.replace(LINE, f"{LINE}  {comment}")


def run(source: str, **config):
    subject = code_subject(source.encode(), display="t.py", path=None)
    found = check_subject(subject, Config(**config))
    return [f.code for f in found], subject.notes


def test_the_example_fires_without_a_comment():
    assert run(BAD)[0] == ["PF301"]


@pytest.mark.parametrize("comment", ["# noqa: PF301", "# noqa:PF301", "# NOQA: pf301", "# noqa: E501, PF301",
                                     "# noqa: PF3", "# noqa: E501 PF301", "# type: ignore  # noqa: PF301"])
def test_noqa_naming_a_pf_code_silences(comment):
    assert run(with_comment(comment)) == ([], [])


@pytest.mark.parametrize("comment", ["# noqa", "# noqa: E501", "# noqa: PF302", "# noqa PF301"])
def test_noqa_without_the_code_does_not_silence(comment):
    assert run(with_comment(comment))[0] == ["PF301"]


def test_noqa_codes_reads_only_pf_codes():
    assert noqa_codes("# noqa: E501, PF301,PF2 B950") == {"PF301", "PF2"}
    assert noqa_codes("# noqa") == frozenset()
    assert suppressions("x = 1  # noqa: PF301\ny = 2  # preflight: ignore\nz = 3  # noqa: F401\n") == {
        1: frozenset({"PF301"}), 2: None}


def test_noqa_in_a_string_is_not_a_comment():
    source = BAD.replace(LINE, f'{LINE}; s = "# noqa: PF301"')
    assert run(source)[0] == ["PF301"]


def test_an_unknown_code_in_noqa_is_noted():
    codes, notes = run(with_comment("# noqa: PF999"))
    assert codes == ["PF301"]
    assert len(notes) == 1 and notes[0].startswith("line 11: '# noqa: PF999' names no rule (see `preflight rules`)")


def test_unused_suppressions_are_noted_only_when_asked():
    source = with_comment("# noqa: PF301").replace("criterion = nn.BCELoss()",
                                                     "criterion = nn.BCELoss()  # preflight: ignore[PF203]")
    source = source.replace("optimizer.step()", "optimizer.step()  # preflight: ignore")
    assert run(source) == ([], [])
    codes, notes = run(source, report_unused_ignores=True)
    assert codes == []
    assert notes == [
        "line 5: '# preflight: ignore[PF203]' is unused: no finding of the selected rules is there to silence; "
        "remove it",
        "line 13: '# preflight: ignore' is unused: no finding of the selected rules is there to silence; remove it",
    ]


def test_a_suppression_of_a_rule_that_did_not_run_is_not_judged():
    """Removing it would bring the finding back on a full run (ruff's RUF100 leaves non-enabled codes
    alone too); the same comment is judged once its rule runs and finds nothing there."""
    for kwargs in ({"select": ("PF2",)}, {"ignore": ("PF301",)}):
        codes, notes = run(with_comment("# noqa: PF301"), report_unused_ignores=True, **kwargs)
        assert codes == [] and notes == [], kwargs
    codes, notes = run(with_comment("# noqa: PF203"), report_unused_ignores=True)
    assert "PF301" in codes and notes == ["line 11: '# noqa: PF203' is unused: no finding of the selected rules "
                                          "is there to silence; remove it"]


def test_report_unused_ignores_on_the_command_line_keeps_the_exit_code(tmp_path):
    (tmp_path / "train.py").write_text(with_comment("# noqa: PF301").replace(
        "optimizer.step()", "optimizer.step()  # noqa: PF203"))
    plain = run_cli(["check", "--no-probe", "train.py"], cwd=tmp_path)
    asked = run_cli(["check", "--no-probe", "--report-unused-ignores", "train.py"], cwd=tmp_path)
    assert plain.code == asked.code == 0
    assert "unused" not in plain.stdout
    assert ("train.py: note: line 13: '# noqa: PF203' is unused: no finding of the selected rules is there to "
            "silence; remove it") in asked.stdout
