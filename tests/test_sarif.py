"""--format sarif: valid against the official SARIF 2.1.0 schema, and says what a finding says.

The schema is OASIS's sarif-schema-2.1.0.json (errata01, JSON Schema draft-04), vendored here
unchanged from github.com/oasis-tcs/sarif-spec (Schemata/sarif-schema-2.1.0.json).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from preflight.checks import ALL_RULES
from preflight.findings import Evidence, Finding, Location, Report, Severity
from preflight.report.links import RULES_URL
from preflight.report.sarif import SRCROOT, render_sarif, to_sarif
from tests.conftest import ROOT, run_cli

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate(doc: dict) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    validator.validate(doc)


def probe_dict() -> dict:
    return {"verdict": "confirmed", "reason": "fixed loss lower in all 3 seeds", "metric": "accuracy",
            "as_is": {"final": 0.69, "curve": [0.9, 0.8, float("nan")], "accuracy": 0.5},
            "fixed": {"final": 0.12, "curve": [0.7, 0.3, 0.12], "accuracy": 0.97},
            "gap": {"ratio": 0.17}, "seeds": 3, "steps": 300, "rows": {"train": 750}, "seconds": 0.4,
            "data": "user"}


def hand_report() -> Report:
    return Report.build([
        Finding("PF201", "label-sorted-rows", Severity.WARNING, "2 runs of equal labels", "shuffle the rows",
                Location(path="data/train.csv", column="label")),
        Finding("PF104", "non-finite-values", Severity.ERROR, "3 NaN", "drop them",
                Location(path="data/x.parquet", column="f0"), probe=Evidence.from_dict(probe_dict())),
        Finding("PF101", "unnormalized-feature", Severity.INFO, "mean 91", "standardize",
                Location(path="/abs/dir/heart rate.npy", column="0")),
        Finding("PF399", "not-a-catalog-rule", Severity.ERROR, "sigmoid then BCELoss", "use BCEWithLogitsLoss",
                Location(path="src/train.py", line=12, col=5)),
    ], {"files": [{"path": "data/train.csv", "rows": 10}]}, errors=["data/broken.csv: could not be read (bad)"])


def test_cli_output_on_every_catalog_example_is_valid_sarif(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    result = run_cli(["check", "--no-probe", "--format", "sarif", "-o", str(out), "rules"], cwd=ROOT)
    assert result.code == 1, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    from preflight.checks import ALL_RULES

    assert [r["id"] for r in rules] == [r.code for r in ALL_RULES]
    codes = {r["ruleId"] for r in run["results"]}
    assert {"PF101", "PF102", "PF103", "PF104", "PF201", "PF202"} <= codes
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert uri["uriBaseId"] == SRCROOT and uri["uri"].startswith("rules/PF")
        assert (ROOT / uri["uri"]).is_file()  # relative to the directory it ran in
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_rule_descriptors_link_to_existing_catalog_folders() -> None:
    doc = to_sarif(Report.build([]), ALL_RULES)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules, "every rule is described even when nothing was found"
    for r in rules:
        assert r["helpUri"].startswith(RULES_URL)
        folder = r["helpUri"][len(RULES_URL):]
        assert folder == f"{r['id']}-{r['name']}"
        assert (ROOT / "rules" / folder).is_dir(), folder
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert "##" not in r["fullDescription"]["text"]  # one section, not the whole docstring
        assert r["help"]["markdown"].startswith("## What it does")
    pf201 = next(r for r in rules if r["id"] == "PF201")
    assert pf201["helpUri"] == RULES_URL + "PF201-label-sorted-rows"
    assert pf201["fullDescription"]["text"].startswith("Flags a classification table whose class labels")


def test_results_carry_level_location_column_and_probe(tmp_path: Path) -> None:
    doc = to_sarif(hand_report(), ALL_RULES, cwd=tmp_path)
    validate(doc)
    run = doc["runs"][0]
    by_code = {r["ruleId"]: r for r in run["results"]}
    assert {c: r["level"] for c, r in by_code.items()} == {
        "PF201": "warning", "PF104": "error", "PF101": "note", "PF399": "error"}

    csv = by_code["PF201"]
    loc = csv["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "data/train.csv", "uriBaseId": SRCROOT}
    assert loc["region"] == {"startLine": 1}  # the header row names the column
    assert csv["message"]["text"].startswith("column 'label': 2 runs of equal labels")
    assert csv["message"]["text"].endswith("Fix: shuffle the rows")
    assert csv["properties"]["column"] == "label"

    parquet = by_code["PF104"]["locations"][0]["physicalLocation"]
    assert "region" not in parquet  # a binary file has no lines
    assert by_code["PF104"]["properties"]["probe"]["as_is"]["curve"] == [0.9, 0.8, None]  # NaN -> null

    npy = by_code["PF101"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert npy == {"uri": "file:///abs/dir/heart%20rate.npy"}

    code = by_code["PF399"]["locations"][0]["physicalLocation"]
    assert code["region"] == {"startLine": 12, "startColumn": 5}
    assert by_code["PF399"]["ruleIndex"] == len(run["tool"]["driver"]["rules"]) - 1  # described on the fly
    assert run["tool"]["driver"]["rules"][-1]["id"] == "PF399"

    assert run["originalUriBaseIds"][SRCROOT]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith("data/broken.csv")


def test_output_is_strict_json_and_fingerprints_are_stable() -> None:
    text = render_sarif(hand_report(), ALL_RULES)

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(text, parse_constant=no_constants)
    again = json.loads(render_sarif(hand_report(), ALL_RULES))
    fps = [r["partialFingerprints"] for r in doc["runs"][0]["results"]]
    assert fps == [r["partialFingerprints"] for r in again["runs"][0]["results"]]
    assert len({json.dumps(f) for f in fps}) == len(fps)


def test_the_schema_rejects_a_broken_log() -> None:
    """The validator is live: the same log with a made-up level or a 0 column fails."""
    doc = to_sarif(hand_report(), ALL_RULES)
    bad = copy.deepcopy(doc)
    bad["runs"][0]["results"][0]["level"] = "warn"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    bad = copy.deepcopy(doc)
    code = next(r for r in bad["runs"][0]["results"] if r["ruleId"] == "PF399")
    code["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


def test_unreadable_input_still_writes_sarif_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"not numpy at all")
    out = tmp_path / "out.sarif"
    result = run_cli(["check", "--no-probe", "--format", "sarif", "-o", str(out), str(bad)])
    assert result.code == 2
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert "broken.npy" in inv["toolExecutionNotifications"][0]["message"]["text"]
    assert "Traceback" not in result.stderr
