"""Turn labels_raw.tsv (file, anchor, rule, reason) into labels.tsv (file, line, alt_lines, rule, reason, note).

An anchor is a substring of the labelled line; `text@@N` picks the N-th line containing it; `A||B` gives
alternative lines (a finding on either counts). Run once after labelling; notes are then edited by hand.
"""
import csv
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_line(lines, anchor):
    nth = 1
    if "@@" in anchor:
        anchor, n = anchor.rsplit("@@", 1)
        nth = int(n)
    hits = [i + 1 for i, text in enumerate(lines) if anchor in text]
    if len(hits) < nth:
        raise SystemExit(f"anchor not found ({len(hits)} hits): {anchor!r}")
    if nth == 1 and len(hits) > 1 and "@@" not in anchor:
        print(f"warning: {len(hits)} hits for {anchor!r}, taking the first", file=sys.stderr)
    return hits[nth - 1]


def find_cell_line(path, anchor):
    """Notebook anchor -> 'cN:M' (cell N counted from 1 over all cells, line M inside the cell)."""
    import json
    nb = json.loads(path.read_text(encoding="utf-8"))
    for ci, cell in enumerate(nb["cells"], 1):
        src = cell["source"]
        text = "".join(src) if isinstance(src, list) else src
        for li, line in enumerate(text.splitlines(), 1):
            if anchor in line and cell["cell_type"] == "code":
                return f"c{ci}:{li}"
    raise SystemExit(f"anchor not found in notebook {path.name}: {anchor!r}")


def main():
    out = [("file", "line", "alt_lines", "rule", "reason", "note")]
    with open(HERE / "labels_raw.tsv", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    for row in rows:
        fname, anchor, rule, reason = row[:4]
        note = row[4] if len(row) > 4 else ""
        path = Path(os.environ.get("REALCODE_FILES", HERE / "files")) / fname
        if not path.exists():
            raise SystemExit(f"missing file {fname}")
        if rule == "NONE":
            out.append((fname, "", "", "NONE", reason, note))
            continue
        if path.suffix == ".ipynb":
            found = [find_cell_line(path, a) for a in anchor.split("||")]
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            found = [find_line(lines, a) for a in anchor.split("||")]
        out.append((fname, str(found[0]), ",".join(map(str, found[1:])), rule, reason, note))
    with open(HERE / "labels.tsv", "w", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(out)
    print(f"{len(out) - 1} label rows")


if __name__ == "__main__":
    main()
