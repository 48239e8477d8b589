"""Build the second hostile-file corpus (issue 15: paths that glob, memory that grows, internal
errors, one bad path among good ones, ragged rows, wrong words) into a directory.

Run by ``tests/test_hostile_files.py``; nothing here is checked in as binary. Each ``FileCase``
gives the arguments ``preflight check`` is run with (several paths where the cause is about
several), the exit code, a fragment per expected stderr line (each line must also name a path
given), and fragments stdout must hold. ``needs="non-root"``: the case needs file permissions to
hold (see ``run_cli.unprivileged``). ``memory=True``: a cause-4 file whose peak memory
``test_hostile_files`` measures.

``python tests/hostile/make_files.py OUTDIR`` builds it by hand and lists the cases.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_cli import entries, remove_tree


@dataclass(frozen=True)
class FileCase:
    name: str
    cause: str  # the cause(s) of issue 15 it covers
    args: tuple[str, ...]  # paths (relative to the corpus root) and options
    rc: int
    stderr: tuple[str, ...]  # one fragment per expected stderr line, in order
    why: str
    stdout: tuple[str, ...] = ()
    needs: str | None = None
    memory: bool = False


def _clean(n: int = 40, seed: int = 0) -> str:
    """A CSV no rule fires on: two well-scaled features and a shuffled binary label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    x = (x - x.mean(0)) / x.std(0)
    y = rng.permutation(np.arange(n) % 2)
    return "a,b,label\n" + "".join(f"{p:.4f},{q:.4f},{c}\n" for (p, q), c in zip(x, y))


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (127 - 10 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


def build(root: Path) -> list[FileCase]:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cases: list[FileCase] = []
    clean = _clean()

    def put(rel: str | bytes, data: bytes | str) -> None:
        p = Path(os.fsdecode(os.path.join(os.fsencode(root), os.fsencode(rel))))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def add(name: str, cause: int | str, args: tuple[str, ...], rc: int, stderr: tuple[str, ...], why: str,
            **kw) -> None:
        cases.append(FileCase(name, str(cause), args, rc, stderr, why, **kw))

    # --- 1. a path is a path, never a glob pattern ------------------------------------------------
    put("glob/train*.csv", clean)
    put("glob/train_big.csv", _clean(204, seed=1))
    add("glob-star-in-name", 1, ("glob/train*.csv",), 0, (),
        "a file named train*.csv is read, not the 204 rows of train_big.csv that the pattern matches",
        stdout=("train*.csv: 40 rows x 3 columns",))
    put("glob/data[1].csv", clean)
    add("glob-brackets-in-name", 1, ("glob/data[1].csv",), 0, (),
        "data[1].csv is read (as a pattern it matches only data1.csv)", stdout=("data[1].csv: 40 rows",))
    import polars as pl

    def frame(text: str) -> pl.DataFrame:
        return pl.read_csv(text.encode())

    frame(clean).write_parquet(root / "glob" / "t?.parquet")
    frame(_clean(204, seed=1)).write_parquet(root / "glob" / "tx.parquet")
    add("glob-question-parquet", 1, ("glob/t?.parquet",), 0, (),
        "a Parquet file named t?.parquet is read, not tx.parquet", stdout=("t?.parquet: 40 rows",))

    # --- 4. memory: a stated bound, checked before allocating -----------------------------------
    with zipfile.ZipFile(root / "bomb_member.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("X", _npy_header((300_000_000, 1)) + bytes(64))  # no .npy suffix: numpy names it 'X'
    add("npz-bomb-unnamed-member", 4, ("bomb_member.npz",), 2, ("at most 1 GiB",),
        "an .npz member named X (not X.npy) promising 2.2 GiB is refused before numpy allocates it",
        memory=True)
    with zipfile.ZipFile(root / "raw_member.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("X", bytes(32 << 20))
    add("npz-member-not-an-array", 4, ("raw_member.npz",), 2, ("which is not a NumPy array",),
        "an .npz member that is 32 MB of zeros, not an array, is refused before it is decompressed", memory=True)
    put("huge.py", "import torch\n" + "x=f(y)\n" * ((4 << 20) // 7 + 1))
    add("py-over-size-limit", 4, ("huge.py",), 2, ("over the 4 MB preflight reads as Python source",),
        "a 4 MB .py file named on the command line is refused by its size (stat), before it is read", memory=True)
    put("big.py", "import torch\n" + "x=f(y)\n" * ((1 << 20) // 7))
    add("py-over-token-limit", 4, ("big.py",), 2, ("tokens of Python, over the 600,000 preflight parses",),
        "1 MB of x=f(y) lines (900,000 tokens; it took 720 MB) is refused by its token count, before it is "
        "parsed", memory=True)
    put("walked/big.py", "import torch\n" + "x=f(y)\n" * ((1 << 20) // 7))
    put("walked/data.csv", clean)
    add("py-over-limit-walked", 4, ("walked",), 0, (),
        "the same file found by walking a folder is skipped with a note; the folder's data is checked",
        stdout=("big.py: note: holds about", "tokens of Python", "skipped", "data.csv: 40 rows"), memory=True)
    code = "import torch\n" + "x=f(y)\n" * ((1 << 20) // 7)
    put("big_cell.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": code}], "nbformat": 4}))
    add("ipynb-over-token-limit", 4, ("big_cell.ipynb",), 2, ("tokens of Python, over the 600,000",),
        "a notebook whose one cell is 1 MB of code is refused before its cells are joined and parsed",
        memory=True)
    outputs = ",".join(["1.5"] * ((32 << 20) // 4 - 64))
    put("outputs.ipynb", '{"cells": [{"cell_type": "code", "source": "x = 1", "outputs": [{"data": [' + outputs
        + ']}]}], "nbformat": 4}')
    add("ipynb-32mb-of-outputs", 4, ("outputs.ipynb",), 0, (),
        "a notebook just under the 32 MB limit whose output is 8 million numbers (the most Python objects "
        "per byte of JSON) is read within the memory bound", stdout=("in 1 file",), memory=True)
    put("long_cell.csv", 'a,text,label\n0.5,"' + "x" * (40 << 20) + '",1\n' + clean.split("\n", 1)[1])
    add("csv-40mb-cell", 4, ("long_cell.csv",), 2, ("has a record longer than 32 MB starting at line 2",),
        "one 40 MB quoted cell in a data row (not the header) is refused before polars holds it", memory=True)
    put("near_limit_cell.csv", 'a,text,label\n0.5,"' + "x" * (30 << 20) + '",1\n' + clean.split("\n", 1)[1])
    add("csv-30mb-cell", 4, ("near_limit_cell.csv",), 0, (),
        "a 30 MB cell, under the record limit, is read within the memory bound", stdout=("41 rows x 3 columns",),
        memory=True)

    # --- 5. read correctly or refused in one line ----------------------------------------------
    lines = clean.splitlines(keepends=True)
    put("unclosed_quote.csv", lines[0] + '"' + "".join(lines[1:]))
    add("csv-unclosed-quote", 5, ("unclosed_quote.csv",), 2, ("opened in the record starting at line 2",),
        "a quote never closed is named by the line it opens on (it swallowed the file)")
    np.save(root / "zero_d.npy", np.array(3.0))
    add("npy-0d", 5, ("zero_d.npy",), 2, ("0-D array",), "a 0-d array is no table")
    np.savez(root / "zero_d_labels.npz", X=np.zeros((10, 2)), y=np.array(1))
    add("npz-0d-labels", 5, ("zero_d_labels.npz",), 2, ("labels that are a single value",),
        "0-d labels beside 2-D features are refused (was a TypeError)")
    np.save(root / "structured_subarray.npy", np.zeros(10, dtype=[("a", "f8"), ("c", "f8", (2,))]))
    add("npy-structured-subarray", 5, ("structured_subarray.npy",), 2, ("field 'c' is itself an array",),
        "a structured dtype with an array field names the field (was an error without a file name)")
    rng = np.random.default_rng(3)
    rows = np.zeros(40, dtype=[("a", "f8"), ("b", "f8"), ("label", "i4")])
    rows["a"], rows["b"], rows["label"] = rng.normal(size=40), rng.normal(size=40), rng.permutation(np.arange(40) % 2)
    rows["a"] = (rows["a"] - rows["a"].mean()) / rows["a"].std()
    rows["b"] = (rows["b"] - rows["b"].mean()) / rows["b"].std()
    np.save(root / "structured.npy", rows)
    add("npy-structured-fields", 5, ("structured.npy",), 0, (), "a structured array of scalar fields is a table",
        stdout=("structured.npy: 40 rows x 3 columns",))
    put(b"name_\xff_latin1.csv", clean)
    add("non-utf8-file-name", 5, (os.fsdecode(b"name_\xff_latin1.csv"),), 0, (),
        "a file name that is not UTF-8 (bytes Linux allows) is read (polars takes only str paths)",
        stdout=("40 rows x 3 columns",))
    deep = root / "deep"
    deep.mkdir()
    for _ in range(1100):
        deep = deep / "d"
        deep.mkdir()
    (deep / "data.csv").write_text(clean)
    add("nested-1100-deep", 5, ("deep",), 0, (), "a folder nested 1,100 deep is walked without recursion",
        stdout=("in 1 file",))

    # --- 6. one bad path does not stop the run ----------------------------------------------------
    put("mixed/good.csv", clean)
    frame(clean).write_parquet(root / "mixed" / "good.parquet")
    put("mixed/notes.txt", "not data\n")
    os.mkfifo(root / "mixed" / "pipe.csv")
    (root / "mixed" / "empty").mkdir()
    add("bad-paths-among-good", 6,
        ("mixed/good.csv", "mixed/missing.csv", "mixed/notes.txt", "mixed/pipe.csv", "mixed/empty",
         "mixed/good.parquet"), 2,
        ("missing.csv: no such file", "notes.txt: is not a file type", "pipe.csv: is not a regular file",
         "empty: holds no files"),
        "a missing, unsupported, FIFO and empty-folder argument are each one error line; both good files "
        "are checked", stdout=("good.csv: 40 rows", "good.parquet: 40 rows", "in 2 files"))
    put("locked_dir/good.csv", clean)
    put("locked_dir/secret/more.csv", clean)
    add("unreadable-subfolder", 6, ("locked_dir",), 2,
        ("secret: is a folder that cannot be read (permission denied)",),
        "a subfolder that cannot be listed is an error line (not skipped silently); the rest is checked",
        stdout=("good.csv: 40 rows",), needs="non-root")
    put("locked_file/good.csv", clean)
    put("locked_file/locked.csv", clean)
    add("unreadable-file-among-good", 6, ("locked_file/locked.csv", "locked_file/good.csv"), 2,
        ("locked.csv: cannot be read (permission denied)",),
        "a file without read permission is one error line; the next path is still checked",
        stdout=("good.csv: 40 rows",), needs="non-root")

    # --- 9. ragged rows are an error naming the line -------------------------------------------------
    put("short_row.csv", "".join(lines[:4]) + "0.1,1\n" + "".join(lines[4:]))
    add("ragged-short-row", 9, ("short_row.csv",), 2, ("line 5 has 2 fields where the header has 3",),
        "a row with too few fields in the middle is named (polars padded it with nulls)")
    put("short_last.csv", clean + "0.5,0.5")
    add("ragged-short-last-line", 9, ("short_last.csv",), 2, ("line 42 has 2 fields where the header has 3",),
        "a short last line without a newline is named, not read as a missing label")
    put("quoted_then_short.csv", 'a,b,label\n"x\ny",1,0\n' + "".join(lines[1:3]) + "0.3\n")
    add("ragged-after-quoted-newline", 9, ("quoted_then_short.csv",), 2, ("line 6 has 1 field where the header has 3",),
        "the line number counts the lines a quoted field spans")

    # --- 10. the right words -----------------------------------------------------------------------
    put("utf16.csv", clean.encode("utf-16"))
    add("utf16-csv", 10, ("utf16.csv",), 2, ("is UTF-16",), "UTF-16 is named as such (was 'not a text file')")
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"price": pa.array([decimal.Decimal("1.5")] * 40, type=pa.decimal256(50, 2)),
                             "label": [i % 2 for i in range(40)]}), root / "decimal256.parquet")
    add("decimal256-parquet", 10, ("decimal256.parquet",), 2, ("a column of a type preflight cannot read: 'price'",),
        "a valid Parquet file with a decimal256 column names the column (was 'corrupt')")
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'pad': '" + "x" * 20_000 + "'}"
    put("long_header.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header) + 1) + header.encode() + b"\n"
        + bytes(24))
    add("npy-oversized-header", 10, ("long_header.npy",), 2, ("NumPy header longer than numpy parses safely",),
        "a 20 kB .npy header is called that, not 'pickled'")
    put("no_x/inside.csv", clean)
    add("permission-not-missing", 10, ("no_x/inside.csv",), 2, ("inside.csv: cannot be read (permission denied)",),
        "a file in a folder one may not enter is 'permission denied', not 'no such file'", needs="non-root")

    # --- names with control and glob characters --------------------------------------------------
    put("names/col\x07umn [*?].csv", '"a\x1b[31m",' + '"b\tc*",label\n' + clean.split("\n", 1)[1])
    add("control-and-glob-names", "1, 2", ("names/col\x07umn [*?].csv",), 0, (),
        "control and glob characters in a file name and in column names: read as names",
        stdout=("40 rows x 3 columns",))

    os.chmod(root, 0o755)
    for p in entries(root):  # readable by another uid (run_cli.unprivileged)
        mode = os.lstat(p).st_mode
        if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            os.chmod(p, 0o755 if stat.S_ISDIR(mode) else 0o644)
    os.chmod(root / "locked_dir" / "secret", 0)
    os.chmod(root / "locked_file" / "locked.csv", 0)
    os.chmod(root / "no_x", 0o644)
    return cases


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-files")
    for c in build(out):
        print(f"{c.rc}  {c.name:<28} {' '.join(c.args)}")
    if "--remove" in sys.argv:
        remove_tree(out)
