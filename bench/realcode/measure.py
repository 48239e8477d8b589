"""Measure preflight's static rules against the hand labels of this corpus.

    REALCODE_FILES=DIR python bench/realcode/measure.py .            # checkout to run
    REALCODE_FILES=DIR python bench/realcode/measure.py . --details  # also list every FP and FN
    REALCODE_FILES=DIR python bench/realcode/measure.py . --peer PATH/TO/torch-preflight  # also score the peer

DIR holds the corpus files (README.md: how they were fetched; they are not in the repository).

Runs `python -m preflight check --no-probe --format json` from the checkout (with this interpreter) once on
files/ (the whole folder) and once per multi-file project folder, then matches findings to labels.tsv: same
file, same rule, line within TOL of the labelled line (or of one of its alt_lines). Each label and each finding
is matched at most once. Prints per-rule TP/FP/FN, precision and recall, the overall numbers, and how the
per-project runs differ from the whole-folder run. Never writes into files/ (preflight does not either).
"""
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = Path(os.environ.get("REALCODE_FILES", HERE / "files")).resolve()
TOL = 3
RULES = ["PF203"] + [f"PF30{i}" for i in range(1, 8)] + [f"PF50{i}" for i in range(1, 7)]
# multi-file projects (folders under files/), also checked on their own
PROJECTS = [
    "znxlwm__pytorch-generative-model-collections",
    "eriklindernoren__PyTorch-GAN/implementations/bicyclegan",
    "eriklindernoren__PyTorch-GAN/implementations/cyclegan",
    "pytorch__examples/mnist_hogwild",
    "yunjey__pytorch-tutorial/tutorials/03-advanced/image_captioning",
    "yunjey__pytorch-tutorial/tutorials/03-advanced/deep_convolutional_gan",
    "pytorch__examples/word_language_model",
    "eriklindernoren__PyTorch-GAN/applications/gan_malware",
]


def run_preflight(checkout, target):
    cmd = [sys.executable, "-m", "preflight", "check", "--no-probe", "--format", "json", str(target)]
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"preflight failed on {target} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    out = []
    for f in data["findings"]:
        path = Path(f["path"])
        if not path.is_absolute():
            path = (Path(checkout) / path).resolve()
        try:
            rel = path.relative_to(FILES).as_posix()
        except ValueError:
            continue
        # notebooks: the location may carry a cell; keep the file part
        rel = rel.split(":cell")[0]
        line = f.get("line") or 0
        if f.get("cell") is not None:
            line = f"c{f['cell']}:{f.get('cell_line') or 0}"
        out.append({"file": rel, "line": line, "code": f["code"],
                    "severity": f["severity"], "message": f["message"]})
    return out, data.get("errors", [])


def load_labels():
    labels, silent = [], set()
    with open(HERE / "labels.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["rule"] == "NONE":
                silent.add(row["file"])
                continue
            lines = [_loc(row["line"])] + [_loc(x) for x in row["alt_lines"].split(",") if x]
            labels.append({"file": row["file"], "lines": lines, "rule": row["rule"],
                           "reason": row["reason"], "note": row.get("note", "")})
    return labels, silent


def _loc(text):
    return text if text.startswith("c") else int(text)


def _dist(a, b):
    """Line distance; notebook locations 'cN:M' only match in the same cell."""
    if isinstance(a, str) or isinstance(b, str):
        if not (isinstance(a, str) and isinstance(b, str)):
            return 10 ** 6
        (ca, la), (cb, lb) = (x[1:].split(":") for x in (a, b))
        return abs(int(la) - int(lb)) if ca == cb else 10 ** 6
    return abs(a - b)


def match(findings, labels):
    findings = [f for f in findings if f["code"] in RULES]
    pairs = []
    for fi, f in enumerate(findings):
        for li, lab in enumerate(labels):
            if lab["file"] == f["file"] and lab["rule"] == f["code"]:
                dist = min(_dist(f["line"], ln) for ln in lab["lines"])
                if dist <= TOL:
                    pairs.append((dist, fi, li))
    used_f, used_l = set(), set()
    for _, fi, li in sorted(pairs):
        if fi not in used_f and li not in used_l:
            used_f.add(fi)
            used_l.add(li)
    tp = [findings[i] for i in sorted(used_f)]
    fp = [f for i, f in enumerate(findings) if i not in used_f]
    fn = [lab for i, lab in enumerate(labels) if i not in used_l]
    return tp, fp, fn


def table(tp, fp, fn):
    per = defaultdict(lambda: [0, 0, 0])
    for f in tp:
        per[f["code"]][0] += 1
    for f in fp:
        per[f["code"]][1] += 1
    for lab in fn:
        per[lab["rule"]][2] += 1
    print(f"{'rule':6} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8}")
    for rule in RULES:
        t, p, n = per[rule]
        prec = f"{t / (t + p):.0%}" if t + p else "-"
        rec = f"{t / (t + n):.0%}" if t + n else "-"
        print(f"{rule:6} {t:4} {p:4} {n:4} {prec:>10} {rec:>8}")
    t, p, n = len(tp), len(fp), len(fn)
    prec = f"{t / (t + p):.1%}" if t + p else "-"
    rec = f"{t / (t + n):.1%}" if t + n else "-"
    print(f"{'all':6} {t:4} {p:4} {n:4} {prec:>10} {rec:>8}")


# the peer's codes mapped onto rule families (labels of either rule of a family match)
PEER_FAMILY = {"TG006": "sigmoid+BCE (PF301/PF304)", "TG005": "softmax+CE/NLL (PF302/PF303)",
               "TG003": "PF501", "TG002": "PF502", "TG001": "PF503", "TG011": "PF504", "TG014": "PF506"}
LABEL_FAMILY = {"PF301": "sigmoid+BCE (PF301/PF304)", "PF304": "sigmoid+BCE (PF301/PF304)",
                "PF302": "softmax+CE/NLL (PF302/PF303)", "PF303": "softmax+CE/NLL (PF302/PF303)",
                "PF501": "PF501", "PF502": "PF502", "PF503": "PF503", "PF504": "PF504", "PF506": "PF506"}


def peer_table(peer_cli, labels, own):
    """Score the peer (torch-preflight) on the same files, per rule family; prints ours beside it."""
    proc = subprocess.run([peer_cli, "check", "-f", "json", "-j", "1", str(FILES)], capture_output=True, text=True)
    data = json.loads(proc.stdout)
    found = []
    for d in data["diagnostics"]:
        fam = PEER_FAMILY.get(d["code"])
        if fam:
            rel = Path(d["path"]).resolve().relative_to(FILES).as_posix()
            found.append({"file": rel, "line": d["line"], "code": fam, "severity": d["severity"],
                          "message": d["message"]})
    fam_labels = [dict(lab, rule=LABEL_FAMILY[lab["rule"]]) for lab in labels if lab["rule"] in LABEL_FAMILY]
    fams = sorted(set(PEER_FAMILY.values()))
    ours = [dict(f, code=LABEL_FAMILY[f["code"]]) for f in own if f["code"] in LABEL_FAMILY]
    rows = []
    for name, finds in (("preflight", ours), ("torch-preflight", found)):
        tp, fp, fn = [], [], []
        for fam in fams:
            t, p, n = match_family([f for f in finds if f["code"] == fam],
                                   [lab for lab in fam_labels if lab["rule"] == fam])
            tp += t
            fp += p
            fn += n
        rows.append((name, tp, fp, fn))
    print(f"{'family':30} " + "  ".join(f"{n:>22}" for n, *_ in rows))
    for fam in fams:
        cells = []
        for _, tp, fp, fn in rows:
            t = sum(1 for f in tp if f["code"] == fam)
            p = sum(1 for f in fp if f["code"] == fam)
            n = sum(1 for lab in fn if lab["rule"] == fam)
            cells.append(f"TP {t:2} FP {p:2} FN {n:2}")
        print(f"{fam:30} " + "  ".join(f"{c:>22}" for c in cells))
    for name, tp, fp, fn in rows:
        t, p, n = len(tp), len(fp), len(fn)
        print(f"  {name}: precision {t / max(t + p, 1):.1%}, recall {t / max(t + n, 1):.1%} ({t} TP, {p} FP, {n} FN)")
    return rows


def match_family(finds, labels):
    saved = RULES[:]
    RULES[:] = sorted({f["code"] for f in finds} | {lab["rule"] for lab in labels})
    try:
        return match(finds, labels)
    finally:
        RULES[:] = saved


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    checkout = Path(sys.argv[1]).resolve()
    details = "--details" in sys.argv
    labels, silent = load_labels()
    files = sorted(p for p in FILES.rglob("*") if p.suffix in (".py", ".ipynb"))
    labelled = {lab["file"] for lab in labels} | silent
    unlabelled = [p.relative_to(FILES).as_posix() for p in files if p.relative_to(FILES).as_posix() not in labelled]
    repos = {p.relative_to(FILES).parts[0] for p in files}
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    print(f"corpus: {len(files)} files ({len(notebooks)} notebooks) from {len(repos)} repository folders; "
          f"{len(labels)} labelled instances; {len(silent)} files labelled silent")
    if unlabelled:
        print("UNLABELLED (not scored as silent):", *unlabelled, sep="\n  ")

    whole, errors = run_preflight(checkout, FILES)
    if errors:
        print(f"preflight reported {len(errors)} input errors:", *[str(e)[:160] for e in errors], sep="\n  ")
    other = defaultdict(int)
    for f in whole:
        if f["code"] not in RULES:
            other[f["code"]] += 1
    print("\n== whole folder (files/) ==")
    tp, fp, fn = match(whole, labels)
    table(tp, fp, fn)
    if other:
        print("other codes reported (not scored):", dict(sorted(other.items())))

    print("\n== per project folder (findings in that folder only) ==")
    for proj in PROJECTS:
        folder = FILES / proj
        if not folder.exists():
            continue
        got, _ = run_preflight(checkout, folder)
        lab_p = [lab for lab in labels if lab["file"].startswith(proj + "/")]
        whole_p = [f for f in whole if f["file"].startswith(proj + "/")]
        t1, p1, n1 = match(got, lab_p)
        t2, p2, n2 = match(whole_p, lab_p)
        same = "same as whole-folder run" if (len(t1), len(p1), len(n1)) == (len(t2), len(p2), len(n2)) \
            else f"whole-folder run: TP {len(t2)} FP {len(p2)} FN {len(n2)}"
        print(f"  {proj}: TP {len(t1)} FP {len(p1)} FN {len(n1)} ({same})")

    if "--peer" in sys.argv:
        cli = sys.argv[sys.argv.index("--peer") + 1]
        print("\n== against the peer (torch-preflight), by rule family (PF203/PF305/PF505 have no peer rule) ==")
        rows = peer_table(cli, labels, whole)
        if details:
            for _name, _tp, pfp, pfn in rows[1:]:
                for f in pfp:
                    print(f"  peer FP {f['code']} {f['file']}:{f['line']} {f['message'][:110]}")
                for lab in pfn:
                    print(f"  peer FN {lab['rule']} {lab['file']}:{lab['lines'][0]}")

    if details:
        print("\n== false alarms (whole folder) ==")
        for f in fp:
            print(f"  FP {f['code']} {f['file']}:{f['line']} [{f['severity']}] {f['message'][:150]}")
        print("\n== misses (whole folder) ==")
        for lab in fn:
            note = f"  ({lab['note']})" if lab["note"] else ""
            print(f"  FN {lab['rule']} {lab['file']}:{lab['lines'][0]} {lab['reason']}{note}")


if __name__ == "__main__":
    main()
