"""Regenerate ``docs/report.png``: the HTML report of ``examples/heart_rate.csv`` in headless Chromium.

Runs ``preflight check examples/heart_rate.csv --format html`` (the probe included) into a temporary
folder, measures the page's height in the browser, and screenshots it at that height, so the image
is the whole page and nothing under it. Needs Debian's ``chromium`` (``apt-get install -y chromium``;
``.ci/run`` installs it). ``tests/test_html.py`` drives the same browser through ``chromium`` and
``measure`` below, and runs this tool into a temporary file.

    python tools/make_report_png.py [OUT.png]
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/heart_rate.csv"
WIDTH = 1100  # CSS px: the page's max width and margins, as a laptop browser shows it
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
# Where a script writes what it measured, for --dump-dom to carry out of the page
MEASURED = re.compile(r'<pre id="measured">([^<]*)</pre>')


def chromium(*args: str, window: tuple[int, int] = (WIDTH, 1400), timeout: int = 90) -> subprocess.CompletedProcess:
    """Headless Chromium with ``args`` (``--dump-dom URL``, ``--screenshot=FILE URL``) at ``window``."""
    if CHROMIUM is None:
        raise RuntimeError("no chromium on PATH: apt-get install -y chromium")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-dev-shm-usage", f"--window-size={window[0]},{window[1]}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def measure(html: str, script: str, folder: Path, window: tuple[int, int] = (WIDTH, 1400)) -> Any:
    """What ``script`` (a JavaScript expression) evaluates to in ``html`` laid out in the browser.

    The page is a copy without its Content-Security-Policy (which forbids scripts), the script run
    at the end of its body; the value comes back as JSON through the DOM."""
    page = folder / "measure.html"
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    js = ("<script>const pre = document.createElement('pre'); pre.id = 'measured';"
          f"pre.textContent = JSON.stringify({script}); document.body.appendChild(pre);</script>")
    page.write_text(html.replace("</body>", js + "</body>"), encoding="utf-8")
    proc = chromium("--dump-dom", page.as_uri(), window=window)
    found = MEASURED.search(proc.stdout)
    if found is None:
        raise RuntimeError(f"the browser measured nothing: {proc.stderr[-2000:]}")
    return json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def make(out: Path) -> tuple[int, int]:
    """Write the screenshot to ``out``; returns the window (width, height) it was taken at."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = folder / "report.html"
        proc = subprocess.run([sys.executable, "-m", "preflight", "check", EXAMPLE, "--format", "html", "-o",
                               str(report)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        if proc.returncode not in (0, 1) or not report.is_file():
            raise RuntimeError(f"preflight check failed ({proc.returncode}): {proc.stderr[-2000:]}")
        height = int(measure(report.read_text(encoding="utf-8"), "document.documentElement.scrollHeight", folder))
        window = (WIDTH, height)
        shot = folder / "report.png"
        proc = chromium(f"--screenshot={shot}", report.as_uri(), window=window)
        if not shot.is_file():
            raise RuntimeError(f"no screenshot: {proc.stderr[-2000:]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out)
    return window


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "report.png"
    try:
        width, height = make(out)
    except RuntimeError as e:
        print(f"make_report_png: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({width} x {height} CSS px)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
