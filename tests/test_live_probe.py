"""The live path with probes on: the probe on the user's own model, its fallbacks, and the promise
that the user's model, optimizer, RNG states and modes are exactly as before."""

from __future__ import annotations

import copy
import random
import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import preflight
from preflight.checks.fixes import ShuffleRows, Standardize
from preflight.inputs.model_stats import OVERFIT_STEPS, overfit_steps
from preflight.probes import user


def digits_loader(scale: float = 255 / 16, shuffle: bool = False, sort: bool = True) -> DataLoader:
    """scikit-learn's digits as (N, 1, 8, 8) images, pixels 0..255, sorted by label."""
    d = load_digits()
    order = np.argsort(d.target, kind="stable") if sort else np.arange(len(d.target))
    X = torch.tensor(d.images[order] * scale, dtype=torch.float32).unsqueeze(1)
    return DataLoader(TensorDataset(X, torch.tensor(d.target[order])), batch_size=32, shuffle=shuffle)


def softmax_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 10),
                         nn.Softmax(dim=1))


def by_code(report, code):
    return [f for f in report.findings if f.code == code]


# --- pure parts ------------------------------------------------------------------------------------

def test_split_is_seeded_and_disjoint():
    train, held = user.split(1000)
    again = user.split(1000)
    assert np.array_equal(train, again[0]) and np.array_equal(held, again[1])
    assert len(held) == 200 and len(train) == 800 and not set(train) & set(held)
    assert np.all(np.diff(train) > 0)  # training rows stay in loader order
    assert len(user.split(10_000)[1]) == user.MAX_HELDOUT


def test_plan_order_and_whole_epochs():
    loader_order = user.plan(100, 32, 6, shuffled=False, whole_epochs=True)
    assert [b.tolist() for b in loader_order[:3]] == [list(range(32)), list(range(32, 64)), list(range(64, 96))]
    assert loader_order[3].tolist() == list(range(32))  # a new epoch, the last partial batch dropped
    shuffled = user.plan(100, 32, 6, shuffled=True, whole_epochs=True)
    assert sorted(np.concatenate(shuffled[:3]).tolist()) != list(range(96))  # not the loader's order
    assert [b.tolist() for b in shuffled] == [b.tolist() for b in user.plan(100, 32, 6, True, True)]


def test_fit_steps_is_counted_not_timed():
    # a tiny model gets the default; a large one is cut by its counted multiply-adds; too large falls back
    assert user.fit_steps(Standardize(), 1e3, 1000, 200, 32, 2.0) == user.USER_STEPS
    cut = user.fit_steps(Standardize(), 2e6, 1000, 200, 32, 5.0)
    assert user.MIN_USER_STEPS <= cut < user.USER_STEPS
    assert cut == user.fit_steps(Standardize(), 2e6, 1000, 200, 32, 5.0)
    with pytest.raises(user.Fallback, match="allows under 20 steps"):
        user.fit_steps(Standardize(), 2e6, 1000, 200, 32, 0.5)
    epochs = user.fit_steps(ShuffleRows(), 1e3, 1000, 200, 32, 2.0)
    assert epochs % (1000 // 32) == 0  # whole epochs for the order fix


def test_order_probe_thins_samples_to_fit_whole_epochs():
    assert user.thinning(ShuffleRows(), 1e3, 1000, 200, 32, 2.0) == 1  # fits as it is
    assert user.thinning(Standardize(), 2e6, 1000, 200, 32, 2.0) == 1  # only the order fix thins
    stride = user.thinning(ShuffleRows(), 1.64e6, 1792, 256, 32, 4.0)
    assert stride > 1
    n = len(range(0, 1792, stride))
    steps = user.fit_steps(ShuffleRows(), 1.64e6, n, 256, 32, 4.0)
    assert steps >= user.MIN_EPOCHS * (n // 32) and steps % (n // 32) == 0


def test_activation_index_skips_shape_only_modules():
    assert user.activation_index(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid(), nn.Flatten(0)), nn.Sigmoid) == 1
    assert user.activation_index(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)), nn.Softmax) == 1
    assert user.activation_index(nn.Sequential(nn.Sigmoid(), nn.Linear(2, 1)), nn.Sigmoid) is None
    assert user.activation_index(nn.Linear(2, 1), nn.Sigmoid) is None


def test_overfit_steps_fit_the_counted_budget():
    assert overfit_steps(1e4, 32) == OVERFIT_STEPS
    big = overfit_steps(1e7, 32)
    assert big == 20 and big < OVERFIT_STEPS  # 2e10 multiply-adds / (3 passes x 1e7 x 32 samples) = 20.8


def test_normalizer_standardizes_each_layout():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 4, 4, generator=g) * 255
    mean = x.mean(dim=(0, 2, 3)).tolist()
    std = x.std(dim=(0, 2, 3), unbiased=False).tolist()
    z = user.normalizer("nchw", mean, std, 4)(x)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(z.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-4)
    zl = user.normalizer("nhwc", mean, std, 4)(x.permute(0, 2, 3, 1))
    assert torch.allclose(zl.permute(0, 3, 1, 2), z, atol=1e-5)
    f = torch.randn(64, 5, generator=g) * 3 + 50
    zf = user.normalizer("features", f.mean(0).tolist(), f.std(0, unbiased=False).tolist(), 2)(f)
    assert torch.allclose(zf.mean(0), torch.zeros(5), atol=1e-4)


# --- the acceptance loader --------------------------------------------------------------------------

@pytest.mark.slow
def test_image_loader_gets_pf101_per_channel_with_user_model_evidence():
    loader = digits_loader()
    report = preflight.check(loader, model=softmax_cnn(), loss=nn.CrossEntropyLoss())
    pixels = loader.dataset.tensors[0].double()
    (f,) = by_code(report, "PF101")
    assert f.location.column == "channel 0"
    assert f"mean=[{pixels.mean().item():.4g}]" in f.fix and f"std=[{pixels.std(unbiased=False).item():.4g}]" in f.fix
    assert f.fix.startswith("transforms.Normalize(")
    ev = f.probe.to_dict()
    assert ev["model"] == "user" and ev["data"] == "user" and ev["rule"] == "PF101"
    assert ev["verdict"] == "confirmed" and ev["gap"]["ratio"] < 0.8 and ev["gap"]["difference"] > 0.1
    assert ev["as_is"]["accuracy"] < ev["fixed"]["accuracy"]
    assert any("Adam lr 0.001 (no optimizer= given)" in n for n in ev["notes"])
    assert [g.code for g in report.findings if g.code.startswith("PF2")] == ["PF203", "PF204"]
    (pf302,) = by_code(report, "PF302")
    out = pf302.probe.to_dict()
    assert out["model"] == "user" and out["verdict"] == "confirmed"
    assert out["fixed"]["setup"] == "the Softmax removed, CrossEntropyLoss"


@pytest.mark.slow
def test_probe_numbers_do_not_depend_on_the_run():
    def numbers():
        r = preflight.check(digits_loader(), model=softmax_cnn(), loss=nn.CrossEntropyLoss(), select=["PF101"])
        ev = r.findings[0].probe.to_dict()
        ev.pop("seconds")
        return ev

    assert numbers() == numbers()


@pytest.mark.slow
def test_optimizer_class_and_hyperparameters_are_cloned():
    model = softmax_cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    report = preflight.check(digits_loader(), model=model, loss=nn.CrossEntropyLoss(), optimizer=opt,
                             select=["PF101"])
    notes = report.findings[0].probe.to_dict()["notes"]
    assert any("a fresh SGD (lr 0.05, momentum 0.9, weight_decay 0) per copy" in n for n in notes), notes


# --- fallbacks ---------------------------------------------------------------------------------------

class Uncopyable(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
        self.lock = threading.Lock()  # deepcopy raises TypeError

    def forward(self, x):
        return self.net(x)


def features_at_50(n=1024):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 6, generator=g) * 5 + 50
    y = (X[:, 0] + X[:, 1] > 100).long()
    return DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)


@pytest.mark.slow
def test_uncopyable_model_falls_back_to_the_reference_mlp_and_says_why():
    torch.manual_seed(0)
    report = preflight.check(features_at_50(), model=Uncopyable(), loss=nn.CrossEntropyLoss(), select=["PF101"])
    ev = report.findings[0].probe.to_dict()
    assert ev["model"].startswith("MLP 6-32-")  # the reference MLP, on the batches' own features
    assert ev["data"] == "user" and ev["verdict"] == "confirmed"
    assert any("not the user's model: the model cannot be copied (TypeError: " in n for n in ev["notes"]), ev["notes"]


@pytest.mark.slow
def test_budget_too_small_falls_back_and_says_why():
    report = preflight.check(features_at_50(), model=Uncopyable().net, loss=nn.CrossEntropyLoss(),
                             select=["PF101"], probe_budget=0.02)
    ev = report.findings[0].probe.to_dict()
    assert ev["verdict"] == "skipped"  # the reference MLP does not fit 0.02 s either
    assert "not the user's model: the probe budget of 0.02 s allows under 20 steps" in ev["reason"], ev


@pytest.mark.slow
def test_features_at_50_loader_without_model_gets_pf101_and_pf203():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2048, 6, generator=g) * 5 + 50
    y = (X[:, 0] + X[:, 1] > 100).long()
    o = torch.argsort(y, stable=True)
    report = preflight.check(DataLoader(TensorDataset(X[o], y[o]), batch_size=32))
    codes = sorted({f.code for f in report.findings})
    assert codes == ["PF101", "PF203", "PF204"]
    ev = by_code(report, "PF101")[0].probe.to_dict()
    assert ev["data"] == "user" and ev["model"].startswith("MLP 6-") and ev["verdict"] == "confirmed"
    assert any("no model= and loss= given" in n for n in ev["notes"])


# --- the user's objects are exactly as before ----------------------------------------------------------

def bn_dropout_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3), nn.Flatten(),
                         nn.Linear(4 * 64, 10), nn.Softmax(dim=1))


def snapshot(model, opt):
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "grads": {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()},
        "requires_grad": {n: p.requires_grad for n, p in model.named_parameters()},
        "modes": {n: m.training for n, m in model.named_modules()},
        "opt": copy.deepcopy(opt.state_dict()),
        "torch_rng": torch.random.get_rng_state().clone(),
        "np_rng": copy.deepcopy(np.random.get_state()),
        "py_rng": random.getstate(),
        "threads": torch.get_num_threads(),
        "ids": [id(p) for p in model.parameters()],
    }


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
    for n in a["grads"]:
        assert (a["grads"][n] is None) == (b["grads"][n] is None), n
        assert a["grads"][n] is None or torch.equal(a["grads"][n], b["grads"][n]), n
    assert a["requires_grad"] == b["requires_grad"] and a["modes"] == b["modes"] and a["ids"] == b["ids"]
    sa, sb = a["opt"], b["opt"]
    assert sa["param_groups"] == sb["param_groups"] and sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        for key, v in sa["state"][i].items():
            assert torch.equal(v, sb["state"][i][key]) if torch.is_tensor(v) else v == sb["state"][i][key]
    assert torch.equal(a["torch_rng"], b["torch_rng"])
    assert a["np_rng"][0] == b["np_rng"][0] and np.array_equal(a["np_rng"][1], b["np_rng"][1])
    assert a["np_rng"][2:] == b["np_rng"][2:]
    assert a["py_rng"] == b["py_rng"] and a["threads"] == b["threads"]


@pytest.mark.slow
def test_user_objects_are_bit_identical_after_check_with_probes():
    torch.manual_seed(0)
    model = bn_dropout_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = digits_loader(shuffle=True)
    x, y = next(iter(loader))
    nn.CrossEntropyLoss()(model(x), y).backward()  # the optimizer has state, the parameters gradients
    opt.step()
    model.train()
    model[3].eval()  # mixed modes come back exactly
    np.random.seed(3)
    random.seed(4)
    before = snapshot(model, opt)
    report = preflight.check(loader, model=model, loss=nn.CrossEntropyLoss(), optimizer=opt)
    probed = [f for f in report.findings if f.probe is not None and f.probe.model == "user"]
    assert {f.code for f in probed} >= {"PF101", "PF302"}  # the probes really trained copies of it
    assert_same(before, snapshot(model, opt))


@pytest.mark.slow
def test_measurements_do_not_depend_on_the_callers_rng_state():
    from preflight.inputs.torch_objects import live_subjects

    def overfit(caller_seed):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))
        torch.manual_seed(caller_seed)  # the state a training script happens to be in
        # a loader in stored order: a shuffling one draws its batches from the caller's RNG (that is its data)
        loader = DataLoader(features_at_50().dataset, batch_size=32)
        setup, _ = live_subjects(loader, model=model, loss=nn.CrossEntropyLoss())
        return setup.live.facts.overfit, setup.live.facts.init_loss

    first = overfit(1)
    assert first == overfit(2) and first[0][2] == 100


def test_pf402_is_dropped_only_when_a_reported_finding_explains_it():
    """PF402 gives way to PF405 when PF405 is reported (the engine's ``superseded_by``), and speaks when
    PF405 is not selected: a model that cannot learn never goes unreported."""
    import importlib.util

    from tests.conftest import ROOT

    path = next((ROOT / "rules").glob("PF405-*/bad_live.py"))
    spec = importlib.util.spec_from_file_location("pf405_bad_live", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    default = preflight.check(**module.build(), probe=False, select=["PF4"])
    alone = preflight.check(**module.build(), probe=False, select=["PF402"])
    assert [f.code for f in default.findings] == ["PF405"]
    assert [f.code for f in alone.findings] == ["PF402"]
