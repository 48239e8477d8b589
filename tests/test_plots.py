"""The probe's plot as a reader meets it: what "fixed" is, a legend clear of the curves, a dot on each
evaluation of a short curve, both axis ends labelled; and the report's words around it ("2 warnings",
"fixed/as-is = 0.0036"). tests/test_html.py holds the browser tests that look at the same plots laid out.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.findings import Evidence, Finding, Location, Severity
from preflight.report.curves import CHAR, MARKERS_MAX, loss_curves_svg
from preflight.report.evidence import fmt_ratio, gap_sentence
from preflight.report.html import render_html
from tests.conftest import ROOT
from tests.test_html import probe, probe_dict, report_with

SVG = "{http://www.w3.org/2000/svg}"
REFERENCE = ROOT / "preflight" / "probes" / "reference"


def recorded(name: str) -> Evidence:
    """The probe's recorded evidence on reference data (what a code finding carries)."""
    return Evidence.from_dict(json.loads((REFERENCE / f"{name}.json").read_text(encoding="utf-8")))


def short_curves(n: int, seeds: int = 3) -> Evidence:
    """Hand-built evidence with ``n`` evaluations per curve, a spike at the second."""
    p = probe_dict(seeds)
    steps = [i * 100 for i in range(n)]
    a = [0.7 if i != 1 else 1.1 for i in range(n)]
    f = [0.7 - 0.3 * min(i, 1) for i in range(n)]
    p["as_is"].update(curve=a, curves=[a] * seeds)
    p["fixed"].update(curve=f, curves=[f] * seeds)
    p["curve_steps"] = steps
    return Evidence.from_dict(p)


def key_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(SVG + "text") if t.get("class", "").startswith("key")]


def box_of(root: ET.Element) -> tuple[float, float, float, float]:
    rect = root.find(SVG + "rect[@class='plot-box']")
    assert rect is not None
    return float(rect.get("x")), float(rect.get("y")), float(rect.get("width")), float(rect.get("height"))


def path_points(root: ET.Element, cls: str) -> list[list[tuple[float, float]]]:
    out = []
    for p in root.iter(SVG + "path"):
        if re.fullmatch(cls, p.get("class", "")):
            out.append([tuple(map(float, pt.split())) for pt in p.get("d")[1:].split(" L")])
    return out


# --- what "fixed" is ---------------------------------------------------------------------------------

def test_the_legend_and_caption_say_what_each_variant_is_from_the_evidence() -> None:
    for name in ("order", "output-sigmoid_bce", "loop-zero_grad", "loop-loss_item"):
        ev = recorded(name)
        root = ET.fromstring(loss_curves_svg(ev, title=f"{ev.rule} on x.py"))
        key = " ".join(key_texts(root))
        # a wrapped entry continues on the next row: the words are the evidence's, whole and in order
        assert f"as-is: {ev.as_is.setup}" in key, (name, key)
        assert f"fixed: {ev.fixed.setup}" in key, (name, key)
        assert ev.fixed.setup in root.find(SVG + "desc").text
    key = " ".join(key_texts(ET.fromstring(loss_curves_svg(recorded("order")))))
    assert "as-is: mini-batches in file order" in key and "fixed: rows shuffled every epoch" in key
    plain = ET.fromstring(loss_curves_svg(recorded("output-sigmoid_bce")))
    assert "fixed: logits + BCEWithLogitsLoss" in plain.find(SVG + "title").text  # the accessible name too


def test_without_a_setup_the_finding_s_fix_names_the_fixed_variant() -> None:
    ev = Evidence.from_dict(probe_dict())  # hand-written evidence: no setup
    assert ev.fixed.setup is None
    assert key_texts(ET.fromstring(loss_curves_svg(ev)))[:2] == ["as-is", "fixed"]
    f = Finding("PF101", "unnormalized-feature", Severity.WARNING, "m", "standardize heart_rate",
                Location(path="a.csv", column="heart_rate"), ev)
    html = render_html(report_with([f]))
    assert '<text class="key fixed" x="' in html and ">fixed: standardize heart_rate</text>" in html
    # the evidence's own words win over the finding's advice
    told = replace(ev, fixed=replace(ev.fixed, setup="columns standardized"))
    html = render_html(report_with([replace(f, probe=told)]))
    assert ">fixed: columns standardized</text>" in html and "fixed: standardize heart_rate" not in html


def test_a_long_description_wraps_inside_the_figure() -> None:
    ev = recorded("loop-zero_grad")
    long = "gradients never zeroed, so every step applies the sum of all the gradients computed so far in training"
    ev = replace(ev, as_is=replace(ev.as_is, setup=long))
    root = ET.fromstring(loss_curves_svg(ev))
    assert f"as-is: {long}" in " ".join(key_texts(root))
    width = float(root.get("width"))
    rows = [t for t in root.iter(SVG + "text") if t.get("class", "").startswith("key")]
    assert any(t.get("class") == "key more" for t in rows)  # a continuation row
    for t in rows:
        assert float(t.get("x")) + len("".join(t.itertext())) * CHAR <= width, t.text


def test_the_legend_note_breaks_between_its_parts() -> None:
    root = ET.fromstring(loss_curves_svg(probe(failed=True)))
    notes = ["".join(t.itertext()) for t in root.iter(SVG + "text") if t.get("class") == "key note"]
    assert notes == ["thick lines: mean of 2 seeds, thin lines: each seed; dots: each evaluation",
                     "\u00d7 training failed (NaN/inf)"]


# --- the legend clear of the curves -----------------------------------------------------------------

def check_layout(root: ET.Element) -> None:
    """Every legend element above the plot box, every curve point inside it, text inside the figure."""
    bx, by, bw, bh = box_of(root)
    width = float(root.get("width"))
    for el in root.iter():
        cls = el.get("class", "")
        if cls.startswith("key"):
            if el.tag == SVG + "text":
                assert float(el.get("y")) + 4 <= by, (cls, el.get("y"), by)  # the baseline and a descender
                assert float(el.get("x")) + len("".join(el.itertext())) * CHAR <= width
            elif el.tag == SVG + "line":
                assert float(el.get("y1")) < by and float(el.get("y2")) < by
            else:
                assert float(el.get("cy")) + float(el.get("r")) < by
        elif cls.startswith(("curve", "marker")):
            pts = ([(float(el.get("cx")), float(el.get("cy")))] if el.tag == SVG + "circle" else
                   [tuple(map(float, p.split())) for p in el.get("d")[1:].split(" L")])
            for x, y in pts:
                assert bx - 0.1 <= x <= bx + bw + 0.1 and by - 0.1 <= y <= by + bh + 0.1, (cls, x, y)
    summary = [float(t.get("y")) for t in root.iter(SVG + "text") if t.get("class") in ("title", "summary")]
    keys = [float(t.get("y")) for t in root.iter(SVG + "text") if t.get("class", "").startswith("key")]
    assert keys and (not summary or max(summary) + 12 <= min(keys))  # the heading's last line above the legend


def test_the_legend_sits_above_the_plot_box_on_the_recorded_evidence() -> None:
    for name in ("order", "output-sigmoid_bce", "output-softmax_ce", "loop-zero_grad", "loop-loss_item"):
        for title in (None, "PF000 on x.py"):
            check_layout(ET.fromstring(loss_curves_svg(recorded(name), title=title)))
    rules = sorted((ROOT / "rules").glob("PF*/evidence.json"))
    assert len(rules) >= 5
    for path in rules:
        check_layout(ET.fromstring(loss_curves_svg(Evidence.from_dict(json.loads(path.read_text("utf-8"))))))


loss = st.one_of(st.none(), st.floats(1e-6, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), seeds=st.integers(1, 4), data=st.data(),
       setups=st.tuples(st.text("abc xyz()+=", max_size=140), st.text("abc xyz()+=", max_size=140)),
       title=st.sampled_from([None, "PF101 on a.csv"]))
def test_no_curve_point_enters_the_legend_whatever_the_curves(n, seeds, data, setups, title) -> None:
    p = probe_dict(seeds)
    for key, setup in zip(("as_is", "fixed"), setups):
        curves = [data.draw(st.lists(loss, min_size=n, max_size=n)) for _ in range(seeds)]
        mean = [None if any(c[i] is None for c in curves) else sum(c[i] for c in curves) / seeds for i in range(n)]
        p[key].update(curve=mean, curves=curves, setup=setup.strip() or None)
    p["curve_steps"] = list(range(0, 10 * n, 10))
    ev = Evidence.from_dict(p)
    svg = loss_curves_svg(ev, title=title)
    root = ET.fromstring(svg)
    if root.find(SVG + "rect[@class='plot-box']") is None:  # no finite value at all: the no-plot frame
        assert all(v is None for k in ("as_is", "fixed") for c in p[k]["curves"] for v in c)
        return
    check_layout(root)


# --- dots on short curves ----------------------------------------------------------------------------

def test_each_evaluation_of_a_short_curve_has_a_dot_on_the_line() -> None:
    root = ET.fromstring(loss_curves_svg(short_curves(6)))
    for key in ("as_is", "fixed"):
        dots = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(SVG + "circle")
                if c.get("class") == f"marker {key}"]
        (line,) = path_points(root, f"curve {key} mean")
        assert len(dots) == 6 and dots == line  # one per evaluation, on the mean line's vertices
    # the spike at the second evaluation is a dot above its neighbours
    spike = [float(c.get("cy")) for c in root.iter(SVG + "circle") if c.get("class") == "marker as_is"]
    assert spike[1] < spike[0] - 20 and spike[1] < spike[2] - 20
    assert "dots: each evaluation" in " ".join(key_texts(root))
    assert len([c for c in root.iter(SVG + "circle") if c.get("class", "").startswith("key")]) == 2  # in the key


def test_a_long_curve_has_no_dots() -> None:
    assert 'class="marker' in loss_curves_svg(short_curves(MARKERS_MAX))
    for svg in (loss_curves_svg(short_curves(MARKERS_MAX + 1)), loss_curves_svg(recorded("output-sigmoid_bce"))):
        assert 'class="marker' not in svg and "dots: each evaluation" not in svg
        assert '<circle class="key' not in svg


# --- axes ---------------------------------------------------------------------------------------------

def tick_ys(root: ET.Element) -> list[tuple[float, str]]:
    return [(float(t.get("y")) - 4, t.text) for t in root.iter(SVG + "text") if t.get("class") == "y-tick"]


def test_both_ends_of_the_y_axis_are_labelled() -> None:
    for ev in (recorded("order"), recorded("output-sigmoid_bce"), recorded("loop-zero_grad"), short_curves(6)):
        root = ET.fromstring(loss_curves_svg(ev))
        _, by, _, bh = box_of(root)
        ticks = tick_ys(root)
        assert math.isclose(min(y for y, _ in ticks), by) and math.isclose(max(y for y, _ in ticks), by + bh)
        labels = [t for _, t in sorted(ticks)]
        assert len(set(labels)) == len(labels), labels  # no label printed twice
    # the sigmoid + BCELoss run spans decades: a log axis from a 1-2-5 value under the lowest loss
    root = ET.fromstring(loss_curves_svg(recorded("output-sigmoid_bce")))
    ev = recorded("output-sigmoid_bce")
    lowest = min(v for v in ev.fixed.curve if v is not None)
    bottom = float(sorted(tick_ys(root))[-1][1])
    assert bottom <= lowest < 2.5 * bottom and "(log scale)" in svg_text(root)


def svg_text(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))


# --- the words around the plot -----------------------------------------------------------------------

def test_ratios_keep_their_significant_digits() -> None:
    assert [fmt_ratio(r) for r in (0.16, 1.0271, 0.0036026, 0.0, 0.0099, 1.234e-5)] == [
        "0.16", "1.03", "0.0036", "0", "0.0099", "1.2e-05"]
    assert "fixed/as-is = 0.0036, gap" in gap_sentence(recorded("output-sigmoid_bce"))
    assert "fixed/as-is = 0, gap" in gap_sentence(recorded("loop-loss_item"))  # nothing kept by the fixed loop
    assert "fixed/as-is = 0.73, gap" in gap_sentence(recorded("order"))
    f = Finding("PF301", "sigmoid-before-bce-loss", Severity.WARNING, "m", "f", Location(path="a.py", line=3),
                recorded("output-sigmoid_bce"))
    html = render_html(report_with([f]))
    assert "fixed/as-is = 0.0036" in html and "= 0.00," not in html


def test_the_inputs_table_counts_in_words() -> None:
    def at(sev: Severity, i: int) -> Finding:
        return Finding("PF101", "unnormalized-feature", sev, "m", "f", Location(path="a.csv", column=f"c{i}"))

    findings = [at(Severity.WARNING, 0), at(Severity.WARNING, 1), at(Severity.ERROR, 2),
                at(Severity.INFO, 3), at(Severity.INFO, 4)]
    html = render_html(report_with(findings, [{"path": "a.csv", "rows": 5, "columns": 6},
                                              {"path": "b.csv", "rows": 5, "columns": 6}]))
    rows = re.findall(r"<tr><td class=\"mono\">([^<]+)</td>.*?<td>([^<]*)</td></tr>", html)
    assert rows == [("a.csv", "1 error, 2 warnings, 2 info"), ("b.csv", "none")]
    html = render_html(report_with(findings[:1], [{"path": "a.csv", "rows": 5, "columns": 6}]))
    assert "<td>1 warning</td>" in html and "1 warnings" not in html


def test_the_docs_name_the_tool_that_makes_the_screenshot() -> None:
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "python tools/make_report_png.py" in docs and "(report.png)" in docs
    png = (ROOT / "docs" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1100  # the tool's window
