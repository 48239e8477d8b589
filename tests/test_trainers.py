"""The two trainers of the probe stay in step: ``preflight.probes.train_numpy`` (the default on the CPU,
no torch import) and ``preflight.probes.train`` (torch: GPUs, ``trainer = "torch"``) start from the
same weights, compute the same gradients and give the same curves on every probe family."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the reference is the torch trainer: no comparison without it

from preflight.checks import RULES_BY_CODE  # noqa: E402
from preflight.checks.fixes import OUTPUT_KINDS, StableLoss  # noqa: E402
from preflight.config import Config  # noqa: E402
from preflight.errors import PreflightError  # noqa: E402
from preflight.probes import train, train_numpy  # noqa: E402
from preflight.probes.data import build, table_from_arrays, table_from_subject  # noqa: E402
from preflight.probes.reference.__main__ import SETTINGS, catalog_folders, catalog_subject  # noqa: E402
from preflight.probes.reference.data import output_case  # noqa: E402
from preflight.probes.run import _evidence, _train, fit_steps, settings_from_config  # noqa: E402
from preflight.probes.settings import ProbeSettings  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

LOSSES = ["bce_logits", "mse", "sigmoid_bce", "ce_logits", "softmax_ce", "softmax_nll"]


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 12345, 2**31 + 5])
@pytest.mark.parametrize("shape", [(1, 32, 1), (7, 32, 3), (40, 16, 10)])
def test_initial_weights_are_torchs_bit_for_bit(seed, shape):
    """What nn.Linear's default init draws from a seeded torch generator, U(+-1/sqrt(fan_in)) by
    torch.rand: the NumPy draws equal it bit for bit (and the torch trainer takes them)."""
    d, hidden, out = shape
    g = torch.Generator().manual_seed(seed)
    bounds = [1 / math.sqrt(d), 1 / math.sqrt(d), 1 / math.sqrt(hidden), 1 / math.sqrt(hidden)]
    drawn = [(torch.rand(s, generator=g, dtype=torch.float32) * 2 - 1) * b
             for s, b in zip([(d, hidden), (1, hidden), (hidden, out), (1, out)], bounds)]
    for a, b, t in zip(drawn, train_numpy.init_weights(seed, *shape), train.init_weights(seed, *shape)):
        assert b.dtype == np.float32 and a.shape == b.shape and t.dtype == torch.float32
        assert np.array_equal(a.numpy(), b) and np.array_equal(t.numpy(), b)


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("scale", [1.0, 40.0])  # 40: saturated sigmoids and softmaxes, clamped logs
def test_losses_and_gradients_are_autograds(kind, scale):
    rng = np.random.default_rng(3)
    out = 1 if kind in ("bce_logits", "mse", "sigmoid_bce") else 4
    z = (rng.normal(0, 1, (3, 50, out)) * scale).astype(np.float32)
    y = (rng.integers(0, 2, (3, 50)) if out == 1 and kind != "mse" else
         rng.normal(0, 1, (3, 50)) if kind == "mse" else rng.integers(0, out, (3, 50))).astype(np.float32)
    zt = torch.tensor(z, requires_grad=True)
    loss_t = train.per_sample_loss(kind, zt, torch.tensor(y))
    (grad_t,) = torch.autograd.grad(loss_t.sum(), zt)
    with np.errstate(all="ignore"):  # exp overflows where the sigmoid saturates, as the trainer allows
        loss_n = train_numpy.per_sample_loss(kind, z, y)
        grad_n = train_numpy.loss_grad(kind, z, y)
    assert loss_n.shape == tuple(loss_t.shape) and grad_n.shape == z.shape
    np.testing.assert_allclose(loss_n, loss_t.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_n, grad_t.numpy(), rtol=1e-4, atol=1e-6)
    if kind == "sigmoid_bce" and scale > 1:  # the seed's point: a sigmoid saturated to exactly 1 passes no gradient
        dead = z[..., 0] > 20
        assert dead.any() and (grad_n[..., 0][dead] == 0).all() and (grad_t.numpy()[..., 0][dead] == 0).all()


def _families():
    """(name, ProbeData) of every probe family: each data rule's catalog bad example, and each output
    kind's reference data."""
    out = []
    for code, folder in catalog_folders().items():
        rule = RULES_BY_CODE[code]
        subject = catalog_subject(folder)
        flagged = [f.location.column for f in rule.check(subject, Config().options_for(rule)) if f.location.column]
        table = table_from_subject(subject, SETTINGS.max_rows)
        out.append((code, build(rule.fix_for(subject), table, rule.probe_columns(subject, flagged), SETTINGS)))
    for kind in OUTPUT_KINDS:
        c = output_case(kind)
        table = table_from_arrays(c["X"], c["y"], c["task"], None, SETTINGS.max_rows)
        out.append((kind, build(StableLoss(kind), table, [], SETTINGS)))
    return out


def _both(data):
    steps, epochs, _ = fit_steps(data, SETTINGS)
    return [_train(data, steps, epochs, SETTINGS.but(trainer=t)) for t in ("torch", "numpy")]


@pytest.mark.slow
@pytest.mark.parametrize("name, data", _families(), ids=lambda v: v if isinstance(v, str) else "")
def test_both_trainers_give_the_same_curves_and_verdict_on_every_probe_family(name, data):
    a, b = _both(data)
    assert (a.trainer, b.trainer) == ("torch", "numpy")
    assert np.array_equal(a.eval_steps, b.eval_steps) and (a.steps, a.batch, a.epochs) == (b.steps, b.batch, b.epochs)
    assert np.array_equal(a.first_nonfinite, b.first_nonfinite)
    assert np.array_equal(np.isfinite(a.curves), np.isfinite(b.curves))
    ea, eb = (_evidence(data, name, m, SETTINGS, "user") for m in (a, b))
    assert (ea.verdict, ea.shown_by) == (eb.verdict, eb.shown_by)
    assert ea.trainer == "torch" and eb.trainer == "numpy"
    np.testing.assert_allclose(b.curves[:, 0], a.curves[:, 0], rtol=1e-5)  # same weights, same held-out rows
    finite = np.isfinite(a.curves)
    rel = np.abs(a.curves[finite] - b.curves[finite]) / np.maximum(np.abs(a.curves[finite]), 1e-3)
    if name in OUTPUT_KINDS:
        # The output family's reference data saturates on purpose (features in the thousands): on it even
        # Adam's runs bounce between losses of 0.6 and 4, and float32 rounding (a matmul summing in another
        # order) sends them down different paths in any two implementations. There the verdict, the setups
        # that show the gap and the headline ratio must agree, to the tolerance recorded evidence is held to.
        assert ea.gap.ratio == pytest.approx(eb.gap.ratio, rel=0.1, abs=0.02)
    else:
        assert float(np.median(rel)) < 1e-5 and float(rel.max()) < 5e-3, (np.median(rel), rel.max())
        np.testing.assert_allclose(b.score_curves, a.score_curves, atol=0.01)


def test_the_numpy_trainer_is_the_default_on_the_cpu_and_the_evidence_says_which_ran():
    assert ProbeSettings().trainer_used() == "numpy"
    assert ProbeSettings(device="cuda").trainer_used() == "torch"
    assert ProbeSettings(trainer="torch").trainer_used() == "torch"
    # "auto" and "numpy" share a cache entry (the same trainer runs); "torch" has its own
    assert ProbeSettings().key() == ProbeSettings(trainer="numpy").key() != ProbeSettings(trainer="torch").key()
    name, data = _families()[0]
    steps, epochs, _ = fit_steps(data, SETTINGS)
    m = _train(data, steps, epochs, SETTINGS)
    ev = _evidence(data, name, m, SETTINGS, "user")
    assert m.trainer == "numpy" and ev.trainer == "numpy" and ev.to_dict()["trainer"] == "numpy"


def test_the_numpy_trainer_on_a_gpu_device_skips_with_the_reason():
    from preflight.probes.run import probe_arrays

    X = np.random.default_rng(0).normal(0, 1, (200, 2)) * 30 + 90
    y = (X[:, 0] > 90).astype(float)
    ev = probe_arrays(X, y, "binary", "PF101", RULES_BY_CODE["PF101"].fix_object, ["a"], ["a", "b"],
                      ProbeSettings(trainer="numpy", device="cuda"))
    assert ev.verdict == "skipped"
    assert ev.reason == 'the NumPy trainer runs on the CPU only, not device "cuda": set trainer = "torch"'


def test_trainer_is_a_probe_setting_and_numpy_cannot_take_a_gpu():
    assert settings_from_config({"trainer": "torch"}).trainer == "torch"
    with pytest.raises(PreflightError, match=r"trainer must be one of auto, numpy, torch, not \"jax\""):
        settings_from_config({"trainer": "jax"}, "pyproject.toml")
    with pytest.raises(PreflightError, match=r"trainer = \"numpy\" trains on the CPU only"):
        settings_from_config({"trainer": "numpy", "device": "cuda"}, "pyproject.toml")


@pytest.mark.slow
def test_a_first_probe_run_does_not_import_torch(tmp_path):
    """The point of the NumPy trainer: a probe that trains, in a fresh process, leaves torch unimported."""
    code = ("import sys, json\nfrom preflight import check\n"
            f"r = check({str(ROOT / 'examples' / 'heart_rate.csv')!r}, config={{'probe': {{'cache': False}}}})\n"
            "print(json.dumps([[f.code, f.probe.verdict, f.probe.trainer] for f in r.findings]))\n"
            "print('torch' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    found, imported = proc.stdout.splitlines()
    assert json.loads(found) == [["PF101", "confirmed", "numpy"]]
    assert imported == "False"
