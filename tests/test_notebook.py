"""Jupyter notebooks: code cells joined and read as one module, IPython syntax blanked, findings placed
by cell and line in text, JSON, SARIF and GitHub output, suppression inside a cell, one error line for
a notebook that is not one."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.config import Config
from preflight.engine import RunOptions, check_subject
from preflight.errors import PreflightError
from preflight.findings import Location
from preflight.inputs import expand
from preflight.inputs.notebook import NotebookPath, join_cells, notebook_subject, python_lines

SETUP = ["import torch\n", "import torch.nn as nn\n"]
MODEL = "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\ncriterion = nn.BCELoss()\n"
TRAIN = ["x = torch.randn(8, 4)\n", "y = torch.rand(8, 1)\n", "loss = criterion(model(x), y)\n"]


def notebook(*cells) -> str:
    """A notebook JSON text: each cell is ("code"|"markdown", source as str or list)."""
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": src,
                                  **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                                 for kind, src in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


BCE_NOTEBOOK = notebook(("markdown", "# A model\n"), ("code", ["%matplotlib inline\n", *SETUP, "!nvidia-smi\n"]),
                        ("code", MODEL), ("markdown", ["Train it\n"]), ("code", TRAIN))


def run(tmp_path, text: str, name="nb.ipynb", fmt: str | None = None, cli=None):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = ["check", "--no-probe", str(path)] + (["--format", fmt] if fmt else [])
    return cli(args)


def findings(text: str):
    subject = notebook_subject(text, display="nb.ipynb", path="nb.ipynb")
    return check_subject(subject, Config(), RunOptions(probe=False))


def test_sigmoid_bce_cell_fires_with_cell_and_line_in_text(tmp_path, cli):
    r = run(tmp_path, BCE_NOTEBOOK, cli=cli)
    assert r.code == 1
    # cell 5 counts the markdown cells (1 and 4); its third line holds the loss call
    assert f"{tmp_path / 'nb.ipynb'}:cell 5:line 3: PF301 [*] sigmoid-before-bce-loss " in r.stdout


def test_json_has_cell_and_line_within_the_cell(tmp_path, cli):
    r = run(tmp_path, BCE_NOTEBOOK, fmt="json", cli=cli)
    (f,) = json.loads(r.stdout)["findings"]
    assert (f["code"], f["cell"], f["cell_line"]) == ("PF301", 5, 3)
    # ``line`` is the line of the joined code cells: cell 2 has 4 lines, cell 3 two, then line 3 of cell 5
    assert f["line"] == 4 + 2 + 3


def test_sarif_names_the_cell_as_a_logical_location(tmp_path, cli):
    r = run(tmp_path, BCE_NOTEBOOK, fmt="sarif", cli=cli)
    (result,) = json.loads(r.stdout)["runs"][0]["results"]
    (where,) = result["locations"]
    assert where["logicalLocations"] == [{"name": "cell 5", "kind": "notebookCell",
                                          "fullyQualifiedName": "cell 5:line 3"}]
    assert "region" not in where["physicalLocation"]
    assert where["physicalLocation"]["artifactLocation"]["uri"].endswith("nb.ipynb")
    assert (result["properties"]["cell"], result["properties"]["cell_line"]) == (5, 3)


def test_github_annotation_names_the_cell_and_no_line(tmp_path, cli):
    r = run(tmp_path, BCE_NOTEBOOK, fmt="github", cli=cli)
    first = r.stdout.splitlines()[0]
    assert first.startswith("::warning file=") and ",line=" not in first
    assert "::[cell 5, line 3] `model(x)`" in first


def test_suppression_comment_works_in_a_cell():
    quiet = notebook(("code", SETUP), ("code", MODEL),
                     ("code", [*TRAIN[:2], "loss = criterion(model(x), y)  # preflight: ignore[PF301]\n"]))
    assert [f.code for f in findings(BCE_NOTEBOOK)] == ["PF301"]
    assert findings(quiet) == []


def test_outputs_markdown_and_shell_lines_are_never_code():
    # the same sigmoid+BCE text in a markdown cell, an output and a %%bash cell is not code
    text = MODEL + TRAIN[2]
    nb = json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "code", "source": SETUP, "outputs": [{"output_type": "stream", "text": [text]}]},
        {"cell_type": "markdown", "source": text},
        {"cell_type": "code", "source": "%%bash\n" + text, "outputs": []},
        {"cell_type": "raw", "source": text}]})
    assert findings(nb) == []


def test_magics_become_pass_and_keep_line_numbers():
    src = "%time x = 1\nfor i in range(3):\n    %timeit f(i)\n!ls\nfiles = !ls\nmodel?\ny = 2\n"
    assert python_lines(src) == ["pass", "for i in range(3):", "    pass", "pass", "pass", "pass", "y = 2"]
    assert python_lines("%%time\nz = 1\n") == ["", "z = 1"]
    assert python_lines("%%writefile a.py\nimport os\n") == ["", ""]


def test_a_cell_that_is_not_python_is_skipped_with_a_note():
    nb = notebook(("code", "def broken(:\n"), ("code", SETUP), ("code", MODEL), ("code", TRAIN))
    subject = notebook_subject(nb, display="nb.ipynb")
    assert any("cell 1 is not valid Python" in n for n in subject.notes)
    (f,) = check_subject(subject, Config(), RunOptions(probe=False))
    assert (f.code, f.location.cell, f.location.cell_line) == ("PF301", 4, 3)


@pytest.mark.parametrize("text, says", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "no 'cells' list"),
    ('{"nbformat": 4, "metadata": {}}', "no 'cells' list"),
    ('{"cells": {"a": 1}}', "no 'cells' list"),
    ('{"cells": [42]}', "cell 1 is not a JSON object"),
    ('{"cells": [{"cell_type": "code", "source": 7}]}', "the source of cell 1 is neither"),
    ('{"cells": [{"cell_type": "code", "source": ["x = 1", 2]}]}', "the source of cell 1 is neither"),
])
def test_bad_notebooks_are_one_error_line(tmp_path, cli, text, says):
    r = run(tmp_path, text, name="bad.ipynb", cli=cli)
    assert r.code == 2
    err = [line for line in (r.stdout + r.stderr).splitlines() if "bad.ipynb" in line]
    assert len(err) == 1 and says in err[0], r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    with pytest.raises(PreflightError, match=says.replace("(", r"\(")):
        notebook_subject(text, display="bad.ipynb")


def test_source_as_string_and_as_list_read_the_same():
    as_list = notebook(("code", SETUP), ("code", MODEL.splitlines(keepends=True)), ("code", TRAIN))
    as_str = notebook(("code", "".join(SETUP)), ("code", MODEL), ("code", "".join(TRAIN)))
    placed = [[(f.code, f.location.cell, f.location.cell_line) for f in findings(t)] for t in (as_list, as_str)]
    assert placed[0] == placed[1] == [("PF301", 3, 3)]


def test_nbformat3_worksheets_are_read():
    nb = json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": SETUP}, {"cell_type": "code", "input": MODEL},
        {"cell_type": "code", "input": TRAIN}]}]})
    assert [(f.code, f.location.cell) for f in findings(nb)] == [("PF301", 3)]


def test_a_folder_includes_its_notebooks_but_not_checkpoints(tmp_path):
    (tmp_path / "a.ipynb").write_text(BCE_NOTEBOOK)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text(BCE_NOTEBOOK)
    (tmp_path / "b.py").write_text("x = 1\n")
    assert sorted(p.name for p in expand([tmp_path])) == ["a.ipynb", "b.py"]


def test_notebook_path_pickles_with_its_cells():
    p = NotebookPath("nb.ipynb", ((1, 2, 3), (4, 5, 1)))
    loc = pickle.loads(pickle.dumps(Location(path=p, line=4)))
    assert (loc.cell, loc.cell_line, str(loc)) == (5, 1, "nb.ipynb:cell 5:line 1")
    assert Location(path="plain.py", line=4, col=2).cell is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["code", "markdown"]),
                          st.lists(st.sampled_from(["x = 1", "%time f()", "!ls", "", "# c", "y = x"]),
                                   max_size=5)), max_size=8))
def test_every_joined_line_maps_back_to_its_cell_and_line(cells):
    """Each line of each code cell lands at a joined line that ``cell_of`` maps back to (cell, line)."""
    source, spans, _ = join_cells([(k, "".join(t + "\n" for t in lines)) for k, lines in cells])
    path = NotebookPath("nb.ipynb", spans)
    joined = source.splitlines()
    for number, (kind, lines) in enumerate(cells, 1):
        if kind != "code":
            continue
        (start, _, count), = [s for s in spans if s[1] == number]
        assert count == max(len(lines), 1)
        for i, text in enumerate(lines, 1):
            assert path.cell_of(start + i - 1) == (number, i)
            expected = python_lines(text)[0] if text else ""
            assert joined[start + i - 2] == expected


def test_a_format_string_continued_with_percent_is_python_not_a_magic():
    from preflight.inputs.notebook import python_lines

    lines = python_lines("print('[%d]'\n      % (3,))\n%time x = 1\n!pip install torch")
    assert lines[:2] == ["print('[%d]'", "      % (3,))"]  # kept: the cell still parses
    assert [ln.strip() for ln in lines[2:4]] == ["pass", "pass"]
