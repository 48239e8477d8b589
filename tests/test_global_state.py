"""A library call leaves the process as it found it: no process-wide setting changed after ``check``.

What is compared: whether the cyclic garbage collector is on, ``csv.field_size_limit()``, torch's
intra-op threads, torch's, NumPy's and ``random``'s global RNG states, ``np.geterr()``, the warnings
filters, the recursion limit and the environment. torch and polars are imported before the first
snapshot: importing them changes the process by itself (torch adds warnings filters, polars sets
``_RJEM_MALLOC_CONF``), once, whoever imports them; what is under test is what preflight's own
calls change.
"""

from __future__ import annotations

import csv
import gc
import os
import random
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import preflight
from preflight.errors import PreflightError
from preflight.inputs.tabular import MAX_COLUMNS
from tests.conftest import ROOT

torch = pytest.importorskip("torch")
pl = pytest.importorskip("polars")

HEART = ROOT / "examples" / "heart_rate.csv"


def state() -> dict[str, Any]:
    np_state: Any = np.random.get_state()
    return {
        "gc enabled": gc.isenabled(),
        "csv.field_size_limit": csv.field_size_limit(),
        "torch.get_num_threads": torch.get_num_threads(),
        "torch rng": torch.random.get_rng_state().tolist(),
        "numpy rng": (np_state[0], np_state[1].tolist(), *np_state[2:]),
        "random": random.getstate(),
        "np.geterr": np.geterr(),
        "warnings.filters": list(warnings.filters),
        "recursion limit": sys.getrecursionlimit(),
        "environ": dict(os.environ),
        "default dtype": torch.get_default_dtype(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "grad enabled": torch.is_grad_enabled(),
    }


def changed(before: dict[str, Any]) -> list[str]:
    after = state()
    return [key for key in before if before[key] != after[key]]


@pytest.fixture
def unusual_process_state():
    """Settings no default has, so that a call which sets its own value and 'restores' a default shows."""
    old_limit = csv.field_size_limit(12345)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(3)
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    old_err = np.seterr(all="warn")
    yield
    csv.field_size_limit(old_limit)
    torch.set_num_threads(old_threads)
    np.seterr(**old_err)


@pytest.mark.slow
def test_check_with_the_probe_on_a_csv_leaves_process_state_alone(tmp_path, unusual_process_state):
    before = state()
    report = preflight.check(str(HEART), config={"probe": {"cache": False, "cache-dir": str(tmp_path)}})
    assert [f.probe.verdict for f in report.findings if f.probe] == ["confirmed"]  # it trained
    assert changed(before) == []


def test_check_of_a_csv_and_a_dataframe_leaves_process_state_alone(unusual_process_state):
    import pandas as pd  # type: ignore[import-untyped]

    before = state()
    assert preflight.check(str(HEART), probe=False).findings
    assert preflight.check(pd.read_csv(HEART), target="label", probe=False).findings
    assert preflight.check(pl.read_csv(HEART), target="label", probe=False).findings
    assert changed(before) == []


def test_csv_field_size_limit_is_restored_on_the_paths_that_raise_it(tmp_path, unusual_process_state):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,label\n1,2,0\n1,2,3,4\n" + "1,2,1\n" * 20)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + ",".join("1" * (MAX_COLUMNS + 1)) + "\n")
    before = state()
    for path, needle in ((ragged, "line 3 has 4 fields"), (wide, "columns")):
        with pytest.raises(PreflightError, match=needle):
            preflight.check(str(path), probe=False)
        assert csv.field_size_limit() == 12345
    assert changed(before) == []


def test_the_trainer_restores_torch_threads_when_training_fails(unusual_process_state):
    from preflight.probes.train import threads

    with pytest.raises(RuntimeError, match="boom"), threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("source", ["import torch.nn as nn\nloss = nn.BCELoss()(nn.Sigmoid()(x), y)\n",
                                    "import torch\ndef broken(:\n"])
def test_static_check_leaves_the_garbage_collector_as_it_found_it(tmp_path, source):
    """Parsing and analysis pause the collector (``analysis.parsing.paused_gc``); a check, even one that
    fails on a syntax error, leaves it on when it was on and off when the caller had turned it off."""
    script = tmp_path / "train.py"
    script.write_text(source)
    was_on = gc.isenabled()
    try:
        for caller_has_it_on in (True, False):
            gc.enable() if caller_has_it_on else gc.disable()
            if "broken" in source:
                with pytest.raises(PreflightError, match="syntax error"):
                    preflight.check(str(script), probe=False)
            else:
                assert [f.code for f in preflight.check(str(script), probe=False).findings] == ["PF301"]
            assert gc.isenabled() is caller_has_it_on
    finally:
        gc.enable() if was_on else gc.disable()
