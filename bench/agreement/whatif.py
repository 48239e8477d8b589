"""Two candidate changes for the agreement goal, judged offline from a recorded run (no training):

* ``heldout H``: the probe reports ``skipped: too few held-out rows to judge`` below H held-out rows;
* ``early E``: order probes (PF201/PF202) get the early checkpoint too, after E epochs, judged on the
  recorded adam-default curves (the only setup whose curves the evidence keeps; the other setups
  could only add confirmations).

    python bench/agreement/whatif.py PROBE_JSON   # e.g. results/probe-final.json (run.py probe final)

Prints the agreement with the Adam-default user per half; a change is chosen on the calibration half.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def agreement(rows: list[dict], verdict: dict[int, str]) -> str:
    parts = []
    for part, keep in (("calibration", True), ("held-out", False), ("all", None)):
        sel = [i for i, r in enumerate(rows) if (keep is None or r["calibration"] == keep) and verdict[i] != "skipped"]
        agree = sum((verdict[i] == "confirmed") == rows[i]["user"]["adam"] for i in sel)
        strict = sum(verdict[i] == "not_reproduced" and rows[i]["adam_seeds"] == 3 for i in sel)
        parts.append(f"{part} {agree}/{len(sel)} = {agree / max(1, len(sel)):.1%} (strict NR {strict})")
    return "; ".join(parts)


def early_gap(ev: dict, epochs: int) -> bool:
    steps = ev["curve_steps"]
    per_epoch = steps[-1] / ev["epochs"]
    idx = next((i for i, s in enumerate(steps) if s >= epochs * per_epoch), None)
    pairs = zip(ev["as_is"]["curves"], ev["fixed"]["curves"])
    return idx is not None and all(f[idx] <= 0.8 * a[idx] and a[idx] - f[idx] >= 0.01 for a, f in pairs)


def main(path: str) -> None:
    rows = json.loads((HERE / "results" / "report-final.json").read_text())
    probe = json.loads(Path(path).read_text())
    ev = [probe[f"{r['table']}|{r['code']}"]["evidence"] for r in rows]
    base = {i: r["probe"] for i, r in enumerate(rows)}
    print(f"as recorded: {agreement(rows, base)}")
    for h in (12, 16, 20, 25, 30, 40, 50):
        v = {i: "skipped" if e["rows"]["heldout"] < h else base[i] for i, e in enumerate(ev)}
        print(f"heldout {h:3d}: {agreement(rows, v)}; skipped {sum(x == 'skipped' for x in v.values())}")
    for e_ in (10, 20, 30):
        v = {i: "confirmed" if r["code"] in ("PF201", "PF202") and early_gap(ev[i], e_) else base[i]
             for i, r in enumerate(rows)}
        print(f"early {e_:3d}: {agreement(rows, v)}")


if __name__ == "__main__":
    main(sys.argv[1])
