"""The real-shaped examples fire their codes at the right lines; guard.py stops a bad setup."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from preflight.config import Config
from preflight.engine import RunOptions, check_paths
from tests.conftest import ROOT


def found(name):
    report = check_paths([ROOT / "examples" / name], Config(), RunOptions(probe=False))
    assert report.errors == ()
    return [(f.code, f.location.line, f.location.col) for f in report.findings]


def test_gan_discriminator_sigmoid_with_bceloss():
    # both criterion calls of the discriminator step; the sigmoid is the Sequential's last layer (line 20)
    assert found("gan_discriminator.py") == [("PF301", 36, 17), ("PF301", 40, 17)]


def test_vae_decoder_sigmoid_with_functional_bce():
    # followed: train() -> model(data) -> forward -> decode -> torch.sigmoid, then loss_function(recon_x, ...)
    assert found("vae.py") == [("PF301", 39, 11)]


def test_classifier_ending_in_softmax_with_cross_entropy():
    # the softmax for metrics after the loss (line 33) is not reported
    assert found("softmax_classifier.py") == [("PF302", 29, 20)]


def test_training_loader_without_shuffle():
    # the validation loader with shuffle=False (line 14) is not reported
    assert found("unshuffled_loader.py") == [("PF203", 13, 16)]


def _run_guard(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "examples" / "guard.py"), *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


@pytest.mark.slow  # a subprocess that imports torch and builds a live setup
def test_guard_stops_a_bad_setup_with_a_readable_message():
    out = _run_guard()
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    # PF301 is probed on copies of the script's own model now: on these well-scaled features the sigmoid
    # with BCELoss and the logits with BCEWithLogitsLoss reach the same held-out loss, so it is info and
    # does not stop the run (test_guard_setup_pf301_is_measured_on_the_model below)
    assert lines[0] == "not training: preflight found 2 problem(s) at warning or above:"
    assert [ln.split(">: ", 1)[1].split()[0] for ln in lines[1:3]] == ["PF203", "PF204"]
    assert "  PF203 fix: shuffle the training loader" in out.stderr
    assert out.stdout == ""  # not one training step


@pytest.mark.slow  # probes train copies of the model
def test_guard_setup_pf301_is_measured_on_the_model():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from guard import make_setup
    finally:
        sys.path.pop(0)
    import preflight

    loader, model, criterion = make_setup(fixed=False)
    (pf301,) = [f for f in preflight.check(loader, model=model, loss=criterion).findings if f.code == "PF301"]
    assert str(pf301.severity) == "info" and pf301.probe.model == "user"
    assert pf301.probe.verdict == "not_reproduced"
    assert pf301.probe.fixed.setup == "the Sigmoid removed, BCEWithLogitsLoss"


@pytest.mark.slow  # trains three epochs in a subprocess
def test_guard_trains_a_fixed_setup():
    out = _run_guard("--fixed")
    assert out.returncode == 0, out.stderr
    epochs = [ln for ln in out.stdout.splitlines() if ln.startswith("epoch ")]
    assert len(epochs) == 3
    losses = [float(ln.rsplit(" ", 1)[1]) for ln in epochs]
    assert losses[-1] < losses[0]
