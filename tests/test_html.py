"""--format html: one self-contained file, everything escaped, the probe's curves drawn.

The browser tests open the report in headless Chromium (Debian's `chromium` package) and check
that the plot is laid out and painted: the SVG's bounding box, then the screenshot's pixels.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from preflight.findings import Evidence, Finding, Location, Report, Severity, Variant
from preflight.report.curves import gap_sentence, loss_curves_svg, series
from preflight.report.html import render_html
from tests.conftest import run_cli
from tools.make_report_png import CHROMIUM, chromium, make, measure

XSS = "<script>alert(1)</script>"


def probe(seeds: int = 2, failed: bool = False) -> Evidence:
    """Hand-built probe evidence, read from JSON shaped as the probe writes it."""
    return Evidence.from_dict(probe_dict(seeds, failed))


def probe_dict(seeds: int = 2, failed: bool = False) -> dict:
    steps = [0, 100, 200, 300, 400]
    as_is = [[2.0 + s * 0.1, 1.5, 1.2, 1.0, 0.9] for s in range(seeds)]
    fixed = [[1.0 + s * 0.05, 0.4, 0.2, 0.12, 0.1] for s in range(seeds)]
    if failed:
        as_is = [[2.0, 3.0, None, None, None] for _ in range(seeds)]
    mean = lambda cs: [None if any(c[i] is None for c in cs) else sum(c[i] for c in cs) / len(cs)  # noqa: E731
                       for i in range(len(steps))]
    return {
        "verdict": "confirmed", "reason": "fixed held-out loss <= 0.8 x as-is in all seeds", "metric": "accuracy",
        "loss": "BCE", "model": "MLP 1-32-1 (ReLU)",
        "as_is": {"final": None if failed else mean(as_is)[-1], "curve": mean(as_is), "curves": as_is,
                  "accuracy": None if failed else 0.62, "failed": failed,
                  **({"failure": "training loss became NaN/inf at step 150 in 2 of 2 seeds"} if failed else {})},
        "fixed": {"final": mean(fixed)[-1], "curve": mean(fixed), "curves": fixed, "accuracy": 0.97, "failed": False},
        "gap": {"ratio": 0.1 / 0.95, "difference": 0.85, "as_is_reaches_fixed_at": None, "never_reached": True},
        "seeds": seeds, "steps": 400, "curve_steps": steps, "rows": {"train": 750, "heldout": 250},
        "seconds": 0.4, "data": "user", "notes": [f"note with {XSS}"],
    }


def report_with(findings: list[Finding], files: list[dict] | None = None) -> Report:
    return Report.build(findings, {"files": files or []})


def heart_rate_report() -> Report:
    f = Finding("PF101", "unnormalized-feature", Severity.WARNING, "mean 91.42 (|mean| > 5), std 11.72 (> 10)",
                "standardize heart_rate", Location(path="examples/heart_rate.csv", column="heart_rate"), probe())
    return report_with([f], [{"path": "examples/heart_rate.csv", "rows": 1000, "columns": 2, "target": "label",
                              "task": "binary"}])


# --- the file --------------------------------------------------------------------------------------

def test_user_controlled_text_is_escaped_end_to_end(tmp_path: Path) -> None:
    """A CSV whose column is named like a script: the report shows the name, never runs it."""
    data = tmp_path / "x.csv"
    rows = "\n".join(f"{100 + i * 3.7:.2f},{i % 2}" for i in range(200))
    data.write_text(f'"{XSS}",label\n{rows}\n', encoding="utf-8")
    out = tmp_path / "report.html"
    result = run_cli(["check", "--no-probe", "--format", "html", "-o", str(out), str(data)])
    assert result.code == 1, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "PF101" in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_probe_text_and_paths_are_escaped() -> None:
    f = Finding("PF101", "unnormalized-feature", Severity.WARNING, f"message {XSS}", f"fix {XSS}",
                Location(path=f"dir/{XSS}.csv", column=XSS),
                Evidence.from_dict({**probe_dict(), "reason": XSS, "model": XSS}))
    html = render_html(report_with([f], [{"path": f"dir/{XSS}.csv", "rows": 1, "columns": 1, "target": XSS}]))
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") >= 8


def test_the_file_is_self_contained() -> None:
    html = render_html(heart_rate_report())
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in html
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", html, re.I)
    assert not re.search(r"\bsrc\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html
    # the only URLs are links a reader may click, and the SVG namespace
    urls = set(re.findall(r"https?://[^\"'<> ]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "https://github.com/preflight-dev/preflight",
                    "https://github.com/preflight-dev/preflight/tree/main/rules/PF101-unnormalized-feature"}


def test_summary_and_findings_tables() -> None:
    html = render_html(heart_rate_report())
    assert '<td class="mono">examples/heart_rate.csv</td><td class="num">1,000</td><td class="num">2</td>' in html
    assert '<a href="#finding-1"><code>PF101</code></a> unnormalized-feature' in html
    assert 'id="finding-1"' in html and "<strong>Fix:</strong> standardize heart_rate" in html
    assert "Found 1 problem in 1 file" in html


def test_no_findings_says_so_and_draws_nothing() -> None:
    html = render_html(report_with([], [{"path": "a.csv", "rows": 5, "columns": 2}]))
    assert "No problems found" in html and "<svg" not in html


# --- the plot --------------------------------------------------------------------------------------

def _path_points(svg: str, cls: str) -> list[list[tuple[float, float]]]:
    paths = re.findall(rf'<path class="{cls}" d="([^"]+)"', svg)
    return [[tuple(map(float, p.strip().split())) for p in d[1:].split(" L")] for d in paths]


def test_plot_draws_each_seed_and_the_means_in_the_right_places() -> None:
    svg = loss_curves_svg(probe(seeds=3))
    assert len(_path_points(svg, "curve as_is seed seed-[0-9]")) == 3
    assert len(_path_points(svg, "curve fixed seed seed-[0-9]")) == 3
    (as_is,) = _path_points(svg, "curve as_is mean")
    (fixed,) = _path_points(svg, "curve fixed mean")
    assert len(as_is) == len(fixed) == 5
    assert [x for x, _ in as_is] == [x for x, _ in fixed] and as_is[0][0] < as_is[-1][0]
    # lower loss is drawn lower (larger y); the fixed run ends far below the as-is run
    assert fixed[-1][1] > as_is[-1][1] + 50
    assert as_is[0][1] < as_is[-1][1]  # the as-is loss falls too
    assert ">training step</text>" in svg and ">held-out BCE</text>" in svg
    assert ">thick lines: mean of 3 seeds, thin lines: each seed; dots: each evaluation</text>" in svg


def test_plot_uses_a_log_axis_for_losses_spanning_decades() -> None:
    p = probe_dict()
    p["as_is"]["curve"] = [500.0, 300.0, 200.0, 150.0, 120.0]
    p["as_is"]["curves"] = [p["as_is"]["curve"]]
    svg = loss_curves_svg(Evidence.from_dict(p))
    assert "held-out BCE (log scale)" in svg
    assert ">100</text>" in svg and ">0.1</text>" in svg


def test_a_failed_run_breaks_the_line_and_is_marked() -> None:
    p = probe(failed=True)
    svg = loss_curves_svg(p)
    (as_is,) = _path_points(svg, "curve as_is mean")
    assert len(as_is) == 2  # stops where the loss became NaN
    assert 'class="failure as_is"' in svg
    assert "NaN (training failed)" in gap_sentence(p)
    html = render_html(report_with([Finding("PF104", "non-finite-values", Severity.ERROR, "m", "f",
                                            Location(path="a.csv"), p)]))
    assert "training loss became NaN/inf at step 150" in html


def test_gap_is_stated_in_words() -> None:
    text = gap_sentence(probe())
    assert text.startswith("final held-out BCE 0.9 as-is, 0.1 fixed (fixed/as-is = 0.11, gap 0.85)")
    assert "accuracy 62% as-is, 97% fixed" in text
    assert text.endswith("as-is never reaches the fixed final loss in 400 steps")


def test_mean_only_and_list_of_seed_curves_shapes() -> None:
    assert series(Variant.from_dict({"curve": [1, 2, None]}, "accuracy")) == ([1.0, 2.0, None], [])
    assert series(Variant.from_dict({"curve": [[1, 2], [3, 4]]}, "accuracy")) == ([2.0, 3.0], [[1.0, 2.0], [3.0, 4.0]])
    p = probe_dict()
    for v in ("as_is", "fixed"):
        del p[v]["curves"]
    del p["curve_steps"]
    svg = loss_curves_svg(Evidence.from_dict(p))
    assert ">evaluation point</text>" in svg and len(_path_points(svg, "curve fixed mean")) == 1


def test_a_skipped_probe_shows_its_reason_and_no_plot() -> None:
    f = Finding("PF101", "unnormalized-feature", Severity.WARNING, "m", "f", Location(path="a.csv"),
                Evidence.from_dict({"verdict": "skipped", "reason": "fewer than 40 rows", "data": "user"}))
    html = render_html(report_with([f]))
    assert "Probe skipped</span>: fewer than 40 rows" in html and "<svg" not in html


# --- in a real browser -----------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="LOUD SKIP: no chromium on PATH; `apt-get install -y chromium` to run the browser tests")
WINDOW = (1100, 1400)


def read_png(path: Path) -> tuple[int, int, list[bytearray]]:
    """A tiny PNG reader: 8-bit RGB/RGBA, non-interlaced (what Chromium writes). Rows of RGB bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    rgb = [bytearray(b for i in range(0, stride, bpp) for b in row[i:i + 3]) for row in rows]
    return width, height, rgb


@pytest.fixture(scope="module")
def browser_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    report = folder / "report.html"
    f = Finding("PF101", "unnormalized-feature", Severity.WARNING, f"mean 91.42 in {XSS}", "standardize",
                Location(path="examples/heart_rate.csv", column=XSS), probe(seeds=3))
    report.write_text(render_html(report_with([f], [{"path": "examples/heart_rate.csv", "rows": 1000,
                                                    "columns": 2, "target": "label", "task": "binary"}])),
                      encoding="utf-8")
    return report


@pytest.mark.slow
@needs_chromium
def test_browser_builds_no_script_and_shows_the_escaped_name(browser_report: Path) -> None:
    dom = chromium("--dump-dom", browser_report.as_uri(), window=WINDOW).stdout
    assert "<svg" in dom and 'class="pf-plot"' in dom
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text


@pytest.mark.slow
@needs_chromium
def test_browser_lays_out_and_paints_the_plot(browser_report: Path, tmp_path: Path) -> None:
    # 1. where the plot is, measured in the laid-out page
    box = measure(browser_report.read_text(encoding="utf-8"), "(r => ({x: r.x, y: r.y, w: r.width, h: r.height}))"
                  "(document.querySelector('svg.pf-plot').getBoundingClientRect())", tmp_path, window=WINDOW)
    assert box["w"] >= 400 and box["h"] >= 200, box
    assert box["y"] + box["h"] <= WINDOW[1], f"the plot is below the screenshot's window: {box}"

    # 2. what is painted there: a screenshot of the real report (CSP and all)
    shot = tmp_path / "shot.png"
    proc = chromium(f"--screenshot={shot}", browser_report.as_uri(), window=WINDOW)
    assert shot.is_file(), proc.stderr[-2000:]
    width, height, rgb = read_png(shot)
    scale = width / WINDOW[0]
    x0, y0 = int(box["x"] * scale), int(box["y"] * scale)
    x1, y1 = int((box["x"] + box["w"]) * scale), int((box["y"] + box["h"]) * scale)
    red = blue = non_white = 0
    for y in range(y0, min(y1, height)):
        row = rgb[y]
        for x in range(x0, min(x1, width)):
            r, g, b = row[3 * x:3 * x + 3]
            non_white += (r, g, b) != (255, 255, 255)
            red += r > 180 and g < 110 and b < 110
            blue += b > 150 and r < 90 and g < 160
    area = (x1 - x0) * (y1 - y0)
    assert red > 300 and blue > 300, (red, blue)  # both variants' curves are painted
    assert 0.01 * area < non_white < 0.5 * area, (non_white, area)  # lines and text, not a blank or filled box
    # outside the plot, right of it, the page is background
    right = [rgb[y][3 * x:3 * x + 3] for y in range(y0, y1, 7) for x in range(x1 + 40, min(x1 + 200, width), 7)]
    assert right and all(tuple(p) == (255, 255, 255) for p in right)


# Every <text> of every plot, as the browser lays it out: its class, its words and its box; the plot
# box; the figure's box; the page's width. A reader trips over text on text, text cut off at the
# figure's edge, a legend over the curves.
LAYOUT_JS = """({page: document.documentElement.scrollWidth, window: window.innerWidth,
  plots: [...document.querySelectorAll('svg.pf-plot')].map(svg => {
    const box = r => ({x: r.x, y: r.y, w: r.width, h: r.height});
    const plot = svg.querySelector('rect.plot-box');
    return {svg: box(svg.getBoundingClientRect()), plot: plot ? box(plot.getBoundingClientRect()) : null,
            texts: [...svg.querySelectorAll('text')].map(t => ({
              cls: t.getAttribute('class') || '', text: t.textContent, ...box(t.getBoundingClientRect())}))};
  })})"""


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


@pytest.fixture(scope="module")
def many_plots(tmp_path_factory) -> str:
    """The report of findings with each recorded evidence (short and long curves, log axes, memory,
    long descriptions, a failed run), and the same plots as standalone figures with their headings."""
    from tests.test_plots import recorded

    evidences = [recorded(n) for n in ("order", "output-sigmoid_bce", "loop-zero_grad", "loop-loss_item")]
    evidences += [probe(seeds=3), probe(failed=True)]
    findings = [Finding("PF201", "label-sorted-rows", Severity.WARNING, "m", "shuffle the rows",
                        Location(path=f"f{i}.csv"), ev) for i, ev in enumerate(evidences)]
    html = render_html(report_with(findings, [{"path": f"f{i}.csv", "rows": 10, "columns": 2}
                                              for i in range(len(findings))]))
    # inlined as the report inlines its plots: in a box that scrolls sideways in a narrow window
    standalone = "".join('<div class="wide">' + loss_curves_svg(ev, title=f"PF{i:03} on examples/a_long_name.csv")
                         + "</div>" for i, ev in enumerate(evidences))
    return html.replace("</body>", f'<h2>Standalone</h2><div class="standalone">{standalone}</div></body>')


@pytest.mark.slow
@needs_chromium
def test_browser_text_never_overlaps_nor_leaves_the_figure_and_the_legend_is_above_the_curves(
        many_plots: str, tmp_path: Path) -> None:
    layout = measure(many_plots, LAYOUT_JS, tmp_path, window=WINDOW)
    plots = layout["plots"]
    assert len(plots) == 12 and all(p["plot"] for p in plots)
    for p in plots:
        svg, box, texts = p["svg"], p["plot"], p["texts"]
        for t in texts:
            assert t["w"] > 0 and t["h"] > 0, t
            assert svg["x"] - 0.5 <= t["x"] and t["x"] + t["w"] <= svg["x"] + svg["w"] + 0.5, ("cut off", t, svg)
            assert svg["y"] - 0.5 <= t["y"] and t["y"] + t["h"] <= svg["y"] + svg["h"] + 0.5, ("cut off", t, svg)
            if t["cls"].startswith("key"):
                assert t["y"] + t["h"] <= box["y"] + 0.5, ("legend over the plot", t, box)
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                assert _overlap(a, b) <= 1.0, ("text on text", a, b)


@pytest.mark.slow
@needs_chromium
def test_browser_narrow_window_scrolls_the_plot_not_the_page(many_plots: str, tmp_path: Path) -> None:
    layout = measure(many_plots, LAYOUT_JS, tmp_path, window=(420, 900))  # headless lays out at least 500 px
    assert layout["window"] <= 500
    assert layout["page"] <= layout["window"], layout["page"]  # nothing pushes the page wider than the window
    for p in layout["plots"]:
        assert p["svg"]["w"] >= 470, p["svg"]  # 30rem: the plot's 11px text stays readable (>= 8px)


@pytest.mark.slow
@needs_chromium
def test_the_docs_screenshot_tool_paints_the_example_s_report(tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    window = make(out)
    width, height, rgb = read_png(out)
    assert (width, height) == window and width == 1100 and height > 900
    red = sum(r > 180 and g < 110 and b < 110 for row in rgb[::3] for r, g, b in zip(row[0::3], row[1::3], row[2::3]))
    blue = sum(b > 150 and r < 90 and g < 160 for row in rgb[::3] for r, g, b in zip(row[0::3], row[1::3], row[2::3]))
    assert red > 100 and blue > 100, (red, blue)  # the probe's curves are in the picture
    last = max(y for y in range(height) if any(v != 255 for v in rgb[y]))
    assert last > height - 80, (last, height)  # cut at the page's end: no blank band under the footer
