"""NumPy files -> table subjects: a ``.npy`` memory-mapped and read in row blocks, the arrays of an
``.npz`` (features ``X``, labels ``y``) decompressed into memory after their headers were checked
against ``MAX_NPZ_BYTES`` (``preflight.inputs.limits``). Files are never unpickled.
"""

from __future__ import annotations

import tokenize
import zipfile
from pathlib import Path

import numpy as np

from preflight.errors import PreflightError
from preflight.inputs.files import _one_line, _read_head, array_subject
from preflight.inputs.limits import MAX_NPZ_BYTES
from preflight.inputs.options import ReadOptions
from preflight.inputs.subject import TableSubject

FEATURE_KEYS = ("X", "x", "features", "data", "inputs")
LABEL_KEYS = ("y", "Y", "labels", "label", "target", "targets")


def read_numpy(path: Path, options: ReadOptions) -> TableSubject:
    display = str(path)
    head = _read_head(path)
    npz = path.suffix.lower() == ".npz"
    if not head.startswith(b"PK" if npz else b"\x93NUMPY"):
        # np.load would otherwise fall back to unpickling and blame "pickled data" for any junk
        what = "a zip archive (.npz)" if npz else "a NumPy .npy file (no \\x93NUMPY magic bytes)"
        raise PreflightError(f"is not {what}; is the file corrupt or misnamed?", display)
    try:
        if npz:
            return _read_npz(path, display, options)
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except PreflightError:
        raise
    except ValueError as exc:
        if "max_header_size" in str(exc):  # numpy's own guard, which also speaks of allow_pickle
            raise PreflightError("has a NumPy header longer than numpy parses safely (10,000 bytes); a .npy that "
                                 "np.save wrote has a short one: is the file corrupt or crafted?", display) from None
        if "pickle" in str(exc).lower() or "python objects" in str(exc).lower():
            raise PreflightError("holds Python objects (pickled); preflight never unpickles files. "
                                 "Save numeric arrays instead", display) from None
        raise PreflightError(f"is not a readable NumPy file ({_one_line(exc)})", display) from None
    except (OSError, EOFError, zipfile.BadZipFile, SyntaxError, tokenize.TokenError) as exc:
        # a malformed header dict reaches numpy's own header parser (tokenize, ast): corrupt or crafted
        raise PreflightError(f"is not a readable NumPy file ({_one_line(exc)})", display) from None
    return array_subject(arr, None, display=display, path=display, options=options)


def _read_npz(path: Path, display: str, options: ReadOptions) -> TableSubject:
    with np.load(path, allow_pickle=False) as npz:
        keys = list(npz.keys())
        fkey = next((k for k in FEATURE_KEYS if k in keys), None)
        lkey = next((k for k in LABEL_KEYS if k in keys), None)
        if not keys:
            raise PreflightError("holds no arrays", display)
        if fkey is None:
            if len(keys) == 1:
                fkey = keys[0]
            else:
                raise PreflightError(f"holds arrays {keys}; name the features X (and the labels y) "
                                     "so preflight knows which is which", display)
        for key in (fkey, lkey):
            if key is not None:
                _check_npz_member(npz, key, display)
        X = npz[fkey]
        y = npz[lkey] if lkey is not None else None
    return array_subject(X, y, display=display, path=display, options=options, label_name=lkey or "y")


def _check_npz_member(npz: np.lib.npyio.NpzFile, key: str, display: str) -> None:
    """Refuse a member that is not a NumPy array, or that decompresses (by its zip entry) or promises
    (by its NumPy header) more than MAX_NPZ_BYTES, before numpy allocates it.

    A compressed .npz of zeros is a zip bomb: a few MB on disk, any size in memory. numpy names the
    member ``X.npy`` ``X``, and any other member by its whole name, which it returns as raw bytes.
    """
    archive = npz.zip
    if archive is None:  # a closed NpzFile; np.load reports it
        return
    member = key + ".npy" if key + ".npy" in archive.namelist() else key
    try:
        info = archive.getinfo(member)
        if info.file_size > MAX_NPZ_BYTES:
            _too_large(key, f"{info.file_size / 2**30:,.1f} GiB uncompressed", display)
        with archive.open(member) as fh:
            if fh.read(6) != b"\x93NUMPY":
                raise PreflightError(f"holds {member!r}, which is not a NumPy array (no \\x93NUMPY magic bytes); "
                                     "save the arrays with np.savez", display)
            fh.seek(0)
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(fh)
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile):
        return  # np.load reports it
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > MAX_NPZ_BYTES:
        _too_large(key, f"of shape {shape} ({size / 2**30:,.1f} GiB uncompressed)", display)


def _too_large(key: str, what: str, display: str) -> None:
    raise PreflightError(f"holds array {key!r} {what}; .npz members are read into memory (at most "
                         f"{MAX_NPZ_BYTES >> 30} GiB): save it with np.save as .npy, which is read in row blocks",
                         display)
