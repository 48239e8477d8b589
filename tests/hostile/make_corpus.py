"""Build the hostile-input corpus into a directory: files a linter meets in a repository nobody inspected.

Run by ``tests/test_hostile_inputs.py`` into a pytest tmp dir; nothing here is checked in as
binary. ``python tests/hostile/make_corpus.py OUTDIR`` builds it by hand and lists the cases.

Every ``Case`` names the path ``preflight check`` is given, the exit code it must end with, and a
fragment of the one stderr line it must print (``None``: stderr must be empty). ``tests/README.md``
says, per input class, what is expected and why; keep the two in step.
"""

from __future__ import annotations

import os
import random
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # relative to the corpus root; what `preflight check` is given
    rc: int  # expected exit code: 0 clean, 1 findings, 2 input error
    stderr: str | None  # a fragment of the single stderr line; None: stderr stays empty
    why: str
    stdout: tuple[str, ...] = ()  # fragments stdout must hold (a note, a finding)
    needs: str | None = None  # "py": needs the static .py checker (branch `setup`); "non-root"
    args: tuple[str, ...] = field(default=())


def _rows(n: int, seed: int = 0) -> list[tuple[float, float, int]]:
    """Well-scaled features and a shuffled binary label: a table no rule fires on."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = rng.permutation(np.arange(n) % 2)
    return [(round(float(a), 4), round(float(b), 4), int(c)) for (a, b), c in zip(x, y)]


def _csv(rows: list[tuple], header: str, sep: str = ",") -> str:
    return header.replace(",", sep) + "\n" + "".join(sep.join(str(v) for v in r) + "\n" for r in rows)


def build(root: Path) -> list[Case]:
    """Write every hostile input under ``root`` and return the cases."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    clean = _rows(200)

    def put(rel: str, data: bytes | str) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def add(name: str, rel: str, rc: int, stderr: str | None, why: str, **kw) -> None:
        cases.append(Case(name, rel, rc, stderr, why, **kw))

    # --- CSV ---------------------------------------------------------------------------------
    put("empty.csv", b"")
    add("empty", "empty.csv", 2, "is empty", "nothing to check is an input error, not a pass")

    put("blank_lines.csv", b"\n\n  \n\t\n")
    add("blank-lines", "blank_lines.csv", 2, "is empty", "whitespace only is empty")

    put("header_only.csv", "a,b,label\n")
    add("header-only", "header_only.csv", 2, "has a header but no rows", "a header without rows has nothing to check")

    put("ragged.csv", _csv(clean[:50], "a,b,label") + "1.0,2.0,1,9.9\n" + _csv(clean[50:60], "a,b,label").split("\n", 1)[1])
    add("ragged-rows", "ragged.csv", 2, "line 52 has 4 fields where the header has 3",
        "a row with more fields than the header is named by its line")

    rnd = random.Random(6)
    put("binary_junk.csv", bytes(rnd.randrange(256) for _ in range(20_000)))
    add("binary-junk", "binary_junk.csv", 2, "is not a text file", "random bytes (with NUL) named .csv are refused, not parsed")

    put("binary_no_nul.csv", bytes(rnd.randrange(128, 256) for _ in range(20_000)))
    add("binary-no-nul", "binary_no_nul.csv", 2, "binary_no_nul.csv",
        "high bytes without a NUL or a newline: one header line and no rows; refused, named")

    latin1 = "café,prix,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in clean)
    put("latin1.csv", latin1.encode("latin-1"))
    add("non-utf8", "latin1.csv", 0, None, "Latin-1 bytes are read lossily and said so in a note",
        stdout=("not valid UTF-8",))

    put("bom.csv", b"\xef\xbb\xbf" + _csv(clean, "a,b,label").encode())
    add("utf8-bom", "bom.csv", 0, None, "a UTF-8 byte-order mark is stripped; 'a' is a column, not '\\ufeffa'",
        stdout=("target 'label'",))

    put("duplicate_columns.csv", _csv([(a, b, a, c) for a, b, c in clean], "a,b,a,label"))
    add("duplicate-columns", "duplicate_columns.csv", 0, None, "duplicate names are kept apart and noted",
        stdout=("duplicate column names",))

    put("semicolon.csv", _csv(clean, "a,b,label", sep=";"))
    add("semicolon", "semicolon.csv", 0, None, "a semicolon delimiter is sniffed", stdout=("3 columns",))
    put("decimal_comma.csv", _csv([(str(a * 50 + 90).replace(".", ","), str(b).replace(".", ","), c)
                                   for a, b, c in clean], "a,b,label", sep=";"))
    add("decimal-comma", "decimal_comma.csv", 1, None,
        "1,5 in a ;-separated file is 1.5 (European spreadsheets): numbers, so PF101 sees 'a'",
        stdout=("decimal commas", "PF101 unnormalized-feature [a]"))

    put("tab.tsv", _csv(clean, "a,b,label", sep="\t"))
    add("tab-tsv", "tab.tsv", 0, None, "tab-separated values are sniffed", stdout=("3 columns",))
    put("tab_named.csv", _csv(clean, "a,b,label", sep="\t"))
    add("tab-csv", "tab_named.csv", 0, None, "tabs in a file named .csv are sniffed too", stdout=("3 columns",))

    quoted = "note,a,label\n" + "".join(f'"line one\nline two, with a comma",{a},{c}\n' for a, _, c in clean)
    put("quoted_newlines.csv", quoted)
    add("quoted-newlines", "quoted_newlines.csv", 0, None, "newlines inside quoted fields do not split rows",
        stdout=("200 rows x 3 columns",))

    put("long_field.csv", "a,text,label\n0.5,\"" + "x" * (6 << 20) + "\",1\n"
        + "".join(f"{a},short,{c}\n" for a, _, c in clean))
    add("6mb-field", "long_field.csv", 0, None, "one 6 MB line (a quoted field) is read in bounded time",
        stdout=("201 rows x 3 columns",))

    put("long_header.csv", ",".join(f"c{i}" for i in range(1_000_000)) + "\n")
    add("6mb-header", "long_header.csv", 2, "has 1,000,000 columns",
        "a single 6 MB line of a million column names: refused at once with the limit, not parsed for seconds")

    put("cr_only.csv", _csv(clean, "a,b,label").replace("\n", "\r"))
    add("cr-line-ends", "cr_only.csv", 2, "bare CR", "old-Mac CR line ends are one line to a CSV reader: said so")

    put("single_column.csv", "x\n" + "".join(f"{a}\n" for a, _, _ in clean))
    add("single-column", "single_column.csv", 0, None, "one feature, no target: only target-free rules run",
        stdout=("no column looks like a target",))

    put("missing_labels.csv", "a,b,label\n" + "".join(f"{a},{b},{c if i % 7 else ''}\n" for i, (a, b, c) in enumerate(clean)))
    add("missing-labels", "missing_labels.csv", 1, None, "empty target cells are a finding (PF109: drop the rows)",
        stdout=("PF109", "[label]"))

    put("all_labels_missing.csv", "a,b,label\n" + "".join(f"{a},{b},\n" for a, b, _ in clean))
    add("no-labels-at-all", "all_labels_missing.csv", 1, None, "a target column with no values is a finding",
        stdout=("[label]",))

    mixed = "a,b,label\n" + "".join(f"{a if i != 11_000 else 'n/a'},{b},{c}\n" for i, (a, b, c) in enumerate(clean * 60))
    put("mixed_column.csv", mixed)
    add("mixed-column-late", "mixed_column.csv", 1, None,
        "text past polars' 10,000-row inference window in a numeric column: read as text and noted; its 'n/a' "
        "is a placeholder (PF110: read it as missing and the column is numeric)",
        stdout=("mixes numbers and text", "PF110 missing-text-values [a] 1 of 12000 cells"))
    put("mixed_early.csv", mixed.replace("n/a", "0").replace(f"\n{clean[150][0]},", "\nn/a,", 1))
    add("mixed-column-early", "mixed_early.csv", 1, None, "text early in a column: inferred as text, said so; "
        "its 'n/a' is a placeholder (PF110)", stdout=("not scale-checked: text 'a'", "every other cell is a number"))

    put("huge_tiny_floats.csv", "a,b,label\n" + "".join(
        f"{v},{t},{i % 2}\n" for i, (v, t) in enumerate(zip([1e308, -1e308, 1.7976931348623157e308, 0.0] * 50,
                                                              [1e-308, -1e-308, 5e-324, 0.0] * 50))))
    add("huge-tiny-floats", "huge_tiny_floats.csv", 1, None,
        "1e308 overflows the variance (said so, not 'constant nan'); 1e-308 is not called constant",
        stdout=("PF101 unnormalized-feature [a]", "std beyond the float64 range"))

    put("int_overflow.csv", "a,b,label\n" + "".join(
        f"{'9' * 30 if i % 3 == 0 else i},{-(2**63) - 1 if i % 5 == 0 else i},{i % 2}\n" for i in range(200)))
    add("int-overflow", "int_overflow.csv", 1, None, "integers beyond int64 are read (as floats or text), no crash",
        stdout=("PF10",))

    put("specials.csv", "a,b,label\n" + "".join(
        f"{['nan', 'inf', '-inf', 'NaN', '1.5'][i % 5]},{i % 3},{i % 2}\n" for i in range(200)))
    add("nan-inf-strings", "specials.csv", 1, None, "'nan'/'inf' spelled out are floats to numpy: PF104, not text",
        stdout=("PF104 non-finite-values [a] 80 NaN, 40 +inf, 40 -inf",))
    put("regex_names.csv", "^f.*$,f1,label\n" + "".join(f"{a * 10 + 90 if i != 5 else ''},{b},{c}\n"
                                                          for i, (a, b, c) in enumerate(clean)))
    add("regex-column-names", "regex_names.csv", 1, None,
        "a column named ^f.*$ is a name, not a pattern matching f1: its own statistics fire PF101 and PF104",
        stdout=("PF101 unnormalized-feature [^f.*$]", "PF104 non-finite-values [^f.*$] 1 missing"))

    put("blank_names.csv", ",,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in clean))
    add("blank-header-names", "blank_names.csv", 0, None, "empty column names are given names, not dropped",
        stdout=("3 columns",))

    # --- Parquet -----------------------------------------------------------------------------
    import polars as pl

    good = pl.DataFrame({"a": [r[0] for r in clean], "b": [r[1] for r in clean], "label": [r[2] for r in clean]})
    good.write_parquet(root / "good.parquet")
    raw = (root / "good.parquet").read_bytes()
    put("corrupt.parquet", b"PAR1" + bytes(rnd.randrange(256) for _ in range(4000)) + b"PAR1")
    add("corrupt-parquet", "corrupt.parquet", 2, "Parquet", "random bytes between PAR1 magics: one line, no traceback")
    put("truncated.parquet", raw[: len(raw) // 2])
    add("truncated-parquet", "truncated.parquet", 2, "Parquet", "a Parquet file cut in half (an interrupted copy)")
    put("not_parquet.parquet", _csv(clean, "a,b,label"))
    add("csv-named-parquet", "not_parquet.parquet", 2, "no PAR1 magic", "a CSV named .parquet is named as misnamed")
    flipped = bytearray(raw)
    for i in range(100, len(raw) - 100, 97):
        flipped[i] ^= 0x5A
    put("bitflip.parquet", bytes(flipped))
    add("bitflip-parquet", "bitflip.parquet", 2, "bitflip.parquet", "bytes flipped inside pages and footer")
    good.head(0).write_parquet(root / "zero_rows.parquet")
    add("zero-row-parquet", "zero_rows.parquet", 2, "no rows", "a schema with no rows has nothing to check")
    odd = pl.DataFrame({
        "when": pl.Series([None] * 200, dtype=pl.Datetime("us", "UTC")),
        "span": pl.Series(list(range(200)), dtype=pl.Duration("ms")),
        "tags": [[i, i + 1] for i in range(200)],
        "pair": [{"p": i, "q": str(i)} for i in range(200)],
        "blob": [bytes([i % 256]) for i in range(200)],
        "nothing": pl.Series([None] * 200, dtype=pl.Null),
        "price": pl.Series([f"{i}.25" for i in range(200)]).cast(pl.Decimal(10, 2)),
        "big": pl.Series([2**64 - 1 - i for i in range(200)], dtype=pl.UInt64),
        "label": pl.Series([str(i % 2) for i in range(200)]).cast(pl.Categorical),
    })
    odd.write_parquet(root / "odd_types.parquet")
    add("odd-types-parquet", "odd_types.parquet", 1, None,
        "datetime, duration, list, struct, binary, null, decimal, uint64, categorical: read, findings",
        stdout=("PF10",))

    # --- NumPy -------------------------------------------------------------------------------
    np.save(root / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    add("pickled-npy", "objects.npy", 2, "never unpickles", "a pickled .npy is refused: loading it would run code")
    np.save(root / "good.npy", np.asarray(clean, dtype=np.float64)[:, :2])
    put("truncated.npy", (root / "good.npy").read_bytes()[:300])
    add("truncated-npy", "truncated.npy", 2, "truncated.npy", "a .npy cut short: its header promises more than the file holds")
    put("huge_shape.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 118)
        + b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 1000), }".ljust(117) + b"\n")
    add("huge-shape-npy", "huge_shape.npy", 2, "huge_shape.npy", "a header claiming 800 TB is refused, not allocated")
    put("junk.npy", bytes(rnd.randrange(256) for _ in range(500)))
    add("junk-npy", "junk.npy", 2, "corrupt or misnamed", "random bytes named .npy are not called 'pickled'")
    np.save(root / "cube.npy", np.zeros((4, 3, 2)))
    add("3d-npy", "cube.npy", 2, "3-D array", "a 3-D array is not a table")
    np.save(root / "zero_rows.npy", np.zeros((0, 3)))
    add("zero-row-npy", "zero_rows.npy", 2, "no rows", "an empty array has nothing to check")
    put("junk.npz", b"PK\x03\x04" + bytes(rnd.randrange(256) for _ in range(500)))
    add("junk-npz", "junk.npz", 2, "junk.npz", "a broken zip named .npz")
    np.savez(root / "objects.npz", X=np.array([[1, None]], dtype=object))
    add("pickled-npz", "objects.npz", 2, "never unpickles", "a pickled array inside .npz is refused")
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (300000000, 1), }"
    header += " " * (127 - 10 - len(header)) + "\n"
    member = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(64)
    with zipfile.ZipFile(root / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", member)
    add("npz-bomb", "bomb.npz", 2, "at most 1 GiB",
        "an .npz member promising 2.2 GiB is refused before numpy allocates it (a zip bomb is MBs on disk)")

    # --- paths -------------------------------------------------------------------------------
    (root / "empty_dir").mkdir()
    add("empty-directory", "empty_dir", 2, "holds no files preflight reads", "a directory with nothing to read is an error")
    add("missing-path", "no/such/file.csv", 2, "no such file or directory", "a path that does not exist")
    (root / "loop_dir").mkdir()
    put("loop_dir/data.csv", _csv(clean, "a,b,label"))
    os.symlink(".", root / "loop_dir" / "again")
    os.symlink("../loop_dir", root / "loop_dir" / "up")
    add("symlink-dir-loop", "loop_dir", 0, None, "a directory linking back to itself is walked once, the file read once",
        stdout=("in 1 file",))
    os.symlink("loop_b.csv", root / "loop_a.csv")
    os.symlink("loop_a.csv", root / "loop_b.csv")
    add("symlink-file-loop", "loop_a.csv", 2, "loop_a.csv", "a symlink loop cannot be opened; named, not followed forever")
    os.symlink("nowhere.csv", root / "dangling.csv")
    add("dangling-symlink", "dangling.csv", 2, "dangling.csv", "a symlink to nothing")
    (root / "fifo_dir").mkdir()
    put("fifo_dir/data.csv", _csv(clean, "a,b,label"))
    os.mkfifo(root / "fifo_dir" / "pipe.csv")
    add("fifo-in-directory", "fifo_dir", 2, "pipe.csv",
        "a named pipe called .csv would block a reader forever: skipped with an error, the real file still checked",
        stdout=("in 1 file",))
    add("fifo-direct", "fifo_dir/pipe.csv", 2, "is not a regular file", "a named pipe given directly")
    put("unreadable.csv", _csv(clean, "a,b,label"))
    os.chmod(root / "unreadable.csv", 0)
    add("unreadable", "unreadable.csv", 2, "permission denied", "a file without read permission (run unprivileged: root reads it anyway)",
        needs="non-root")
    (root / "dir.csv").mkdir()
    add("directory-named-csv", "dir.csv", 2, "holds no files", "a directory called data.csv is a directory")

    # --- Python (read statically once branch `setup` lands) ------------------------------------
    put("syntax_error.py", "import torch\n\ndef train(:\n    pass\n")
    add("py-syntax-error", "syntax_error.py", 2, "syntax_error.py", "not Python: one line with the line number", needs="py")
    put("nested_parens.py", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    add("py-5000-parens", "nested_parens.py", 2, "nested_parens.py",
        "5,000 nested parentheses exceed the parser's nesting limit: one line, no RecursionError", needs="py")
    put("binary.py", bytes(rnd.randrange(256) for _ in range(5000)))
    add("py-binary", "binary.py", 2, "binary.py", "random bytes named .py are not Python", needs="py")
    put("latin1_cookie.py", "# -*- coding: latin-1 -*-\nname = 'café'\nprint(name)\n".encode("latin-1"))
    add("py-latin1-declared", "latin1_cookie.py", 0, None, "Latin-1 with a coding cookie is valid Python", needs="py")
    put("latin1_plain.py", "name = 'café'\nprint(name)\n".encode("latin-1"))
    add("py-latin1-undeclared", "latin1_plain.py", 2, "latin1_plain.py",
        "Latin-1 without a cookie is not valid Python source (PEP 3120)", needs="py")
    put("generated.py", "import torch\n\n" + "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(12_500)))
    add("py-50000-lines", "generated.py", 0, None, "50,000 lines of plain code read in bounded time", needs="py")
    return cases


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for c in build(out):
        print(f"{c.rc}  {c.name:<24} {c.path}")
