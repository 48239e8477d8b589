"""The static checks on tests/corpus, short excerpts of public training code (each names its origin in its
first line), against the hand labels of tests/corpus/manifest.txt: every true instance found, nothing else."""

from __future__ import annotations

from pathlib import Path

from preflight.config import Config
from preflight.engine import RunOptions, check_paths

CORPUS = Path(__file__).resolve().parent / "corpus"


def labels() -> set[tuple[str, int, str]]:
    out = set()
    for line in (CORPUS / "manifest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and not line.endswith(" silent"):
            where, code = line.split()
            name, ln = where.rsplit(":", 1)
            out.add((name, int(ln), code))
    return out


def test_every_excerpt_names_its_origin_and_every_label_its_file():
    files = sorted(CORPUS.glob("*.py"))
    assert files
    for f in files:
        assert f.read_text(encoding="utf-8").startswith("# origin: "), f.name
    assert {name for name, _, _ in labels()} <= {f.name for f in files}


def test_the_corpus_findings_are_exactly_the_hand_labels():
    report = check_paths([CORPUS], Config(), RunOptions(probe=False))
    assert report.errors == ()
    found = {(Path(f.location.path).name, f.location.line, f.code) for f in report.findings}
    assert found == labels()
