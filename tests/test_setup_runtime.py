"""Live objects: preflight.check(loader, model=..., loss=...) reads samplers, batches and one forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import preflight
from preflight.errors import FindingsError
from preflight.inputs.torch_objects import batch_labels, describe_sampler
from preflight.stats.batches import binom_sf, order_runs, pure_batch_probability, purity


def sorted_ds(n=1024, classes=2, d=8):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) * classes // n
    return TensorDataset(torch.randn(n, d, generator=g), y)


def codes(report):
    return sorted(f.code for f in report.findings)


# --- samplers ----------------------------------------------------------------------------------

def test_describe_sampler_unwraps_and_respects_shuffle():
    ds = sorted_ds()
    assert describe_sampler(DataLoader(ds, batch_size=8)) == ("SequentialSampler", False)
    assert describe_sampler(DataLoader(ds, batch_size=8, shuffle=True)) == ("RandomSampler", True)
    bs = BatchSampler(RandomSampler(ds), 8, False)
    assert describe_sampler(DataLoader(ds, batch_sampler=bs))[1] is True
    dist = DistributedSampler(ds, num_replicas=2, rank=0, shuffle=False)
    assert describe_sampler(DataLoader(ds, sampler=dist, batch_size=8)) == (
        "DistributedSampler(shuffle=False)", False)
    dist = DistributedSampler(ds, num_replicas=2, rank=0, shuffle=True)
    assert describe_sampler(DataLoader(ds, sampler=dist, batch_size=8))[1] is True


def test_sequential_sorted_loader_fires_pf203_and_pf204_shuffled_is_silent():
    ds = sorted_ds()
    report = preflight.check(DataLoader(ds, batch_size=32), probe=False)
    assert codes(report) == ["PF203", "PF204"]
    assert preflight.check(DataLoader(ds, batch_size=32, shuffle=True), probe=False).findings == ()


def test_distributed_sampler_without_shuffle_on_sorted_data_fires_pf203():
    ds = sorted_ds()
    dist = DistributedSampler(ds, num_replicas=1, rank=0, shuffle=False)
    report = preflight.check(DataLoader(ds, sampler=dist, batch_size=32), probe=False)
    assert "PF203" in codes(report)


def test_reads_at_most_max_batches_and_starts_no_workers():
    import os

    seen, pids = [], set()

    class Counting(Dataset):
        def __len__(self):
            return 10_000

        def __getitem__(self, i):
            seen.append(i)
            pids.add(os.getpid())
            return torch.zeros(2), i % 2

    loader = DataLoader(Counting(), batch_size=10, num_workers=2)
    report = preflight.check(loader, probe=False, config={"PF204": {"max_batches": 5}})
    assert report.errors == ()
    # 5 batches of 10, plus the random sample used for the class proportions (256 items)
    assert len(seen) == 5 * 10 + 256
    assert seen[:50] == list(range(50))
    assert pids == {os.getpid()}  # read in this process: no worker started


def test_rng_state_is_restored():
    loader = DataLoader(sorted_ds(), batch_size=32, shuffle=True)
    state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    preflight.check(loader, probe=False)
    assert torch.equal(state, torch.random.get_rng_state())
    assert (np.random.get_state()[1] == np_state).all()


def test_labels_from_dicts_and_missing_labels_are_said_plainly():
    class DictDs(Dataset):
        def __len__(self):
            return 256

        def __getitem__(self, i):
            return {"pixel_values": torch.zeros(3), "Label": int(i >= 128)}

    report = preflight.check(DataLoader(DictDs(), batch_size=16), probe=False)
    # the all-zero pixel_values are read as batch features now: three constant features (PF103)
    assert codes(report) == ["PF103", "PF103", "PF103", "PF203", "PF204"]
    assert sorted(f.location.column for f in report.findings if f.code == "PF103") == [
        "pixel_values: feature 0", "pixel_values: feature 1", "pixel_values: feature 2"]

    class NoLabels(Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):  # features that vary (constant ones would be PF103's, rightly)
            return {"pixel_values": torch.randn(3, generator=torch.Generator().manual_seed(i))}

    report = preflight.check(DataLoader(NoLabels(), batch_size=16), probe=False)
    assert report.findings == ()
    notes = report.summary["files"][0]["notes"]
    assert any("labels not found" in n and "no label/target/y key" in n for n in notes), notes


def test_batch_labels_shapes():
    y, _ = batch_labels((torch.zeros(4, 2), torch.tensor([[0, 1], [1, 0], [1, 0], [0, 1]])))
    assert y.tolist() == [1, 0, 0, 1]  # one-hot read by argmax
    y, why = batch_labels((torch.zeros(3), torch.tensor([0.2, 1.7, 3.3])))
    assert y is None and "regression" in why
    y, why = batch_labels((torch.zeros(3), torch.zeros(3), torch.zeros(3)))
    assert y is None and "3 items" in why


def test_iterable_dataset_is_not_pf203_and_reads_without_workers():
    import os

    pids = set()

    class Stream(IterableDataset):
        def __iter__(self):
            pids.add(os.getpid())
            g = torch.Generator().manual_seed(0)
            for i in range(10_000):
                yield torch.randn(2, generator=g), int(i >= 5000)

    report = preflight.check(DataLoader(Stream(), batch_size=32, num_workers=2), probe=False)
    # The stream orders itself (no PF203). Its first 64 batches hold class 0 only, and a stream has no
    # dataset-wide labels to compare with, so PF204 cannot tell a sorted stream from a one-class one:
    # it stays silent rather than guess.
    assert report.findings == ()
    assert report.summary["files"][0]["description"].startswith("sampler IterableDataset Stream")
    assert pids == {os.getpid()}


def test_imbalanced_shuffled_data_is_not_pf204():
    g = torch.Generator().manual_seed(1)
    y = (torch.rand(4000, generator=g) < 0.03).long()
    X = torch.randn(4000, 1, generator=g)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    assert preflight.check(loader, probe=False).findings == ()


# --- model and loss ----------------------------------------------------------------------------

def loader2(n=256, d=8, shuffle=True):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)
    return DataLoader(TensorDataset(X, (X[:, 0] > 0).long()), batch_size=32, shuffle=shuffle)


class FunctionalSigmoid(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return torch.sigmoid(self.fc(self.drop(self.bn(x)))).squeeze(1)


@pytest.mark.parametrize("model,loss,expected", [
    (lambda: nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()), nn.BCELoss, ["PF301"]),
    (lambda: nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()), nn.BCEWithLogitsLoss, ["PF304"]),
    # sigmoid + MSE is no PF30x pair, but output (32, 1) against labels (32,) broadcasts to (32, 32): PF307
    (lambda: nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()), nn.MSELoss, ["PF307"]),
    (lambda: nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Flatten(0)), nn.MSELoss, []),
    (lambda: nn.Sequential(nn.Linear(8, 1)), nn.BCEWithLogitsLoss, []),
    (lambda: nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1)), nn.CrossEntropyLoss, ["PF302"]),
    (lambda: nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1), nn.Dropout()), nn.NLLLoss, ["PF303"]),
    (lambda: nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1)), nn.CrossEntropyLoss, ["PF305"]),
    (lambda: nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1)), nn.NLLLoss, []),
    (lambda: nn.Sequential(nn.Linear(8, 3)), nn.CrossEntropyLoss, []),
    (lambda: nn.Sequential(nn.Linear(8, 1)), nn.CrossEntropyLoss, ["PF306"]),
    (FunctionalSigmoid, nn.BCELoss, ["PF301"]),
    (lambda: nn.Sequential(nn.Linear(8, 3), nn.Sigmoid(), nn.Linear(3, 1)), nn.BCEWithLogitsLoss, []),
])
def test_model_and_loss_pairs(model, loss, expected):
    torch.manual_seed(0)
    report = preflight.check(loader2(), model=model(), loss=loss(), probe=False)
    assert codes(report) == expected


def test_functional_losses_are_recognised():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
    assert codes(preflight.check(loader2(), model=m, loss=F.cross_entropy, probe=False)) == ["PF302"]


def test_forward_pass_restores_modes_and_leaves_batchnorm_alone():
    torch.manual_seed(0)
    m = FunctionalSigmoid()
    m.train()
    m.fc.eval()  # mixed modes must come back exactly
    before = m.bn.running_mean.clone()
    preflight.check(loader2(), model=m, loss=nn.BCELoss(), probe=False)
    assert m.training is True and m.fc.training is False and m.bn.training is True
    assert torch.equal(before, m.bn.running_mean)


def test_forward_failure_is_a_note_and_the_tree_still_counts():
    class Broken(nn.Sequential):
        def forward(self, x):
            raise RuntimeError("shape mismatch")

    m = Broken(nn.Linear(8, 1), nn.Sigmoid())
    report = preflight.check(loader2(), model=m, loss=nn.BCELoss(), probe=False)
    assert codes(report) == ["PF301"]
    assert any("forward pass on one batch failed (RuntimeError: shape mismatch)" in n
               for n in report.summary["files"][0]["notes"])


def test_model_only_without_data():
    report = preflight.check(None, model=nn.Sequential(nn.Linear(4, 1)), loss=nn.CrossEntropyLoss(), probe=False)
    assert codes(report) == ["PF306"]


def test_dataset_gives_the_forward_batch():
    torch.manual_seed(0)
    ds = TensorDataset(torch.randn(64, 8), torch.zeros(64))
    m = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Flatten(0))
    report = preflight.check(ds, model=m, loss=nn.BCEWithLogitsLoss(), probe=False)
    assert codes(report) == ["PF304"]


def test_bad_model_argument_raises_one_line():
    with pytest.raises(preflight.PreflightError, match=r"model= must be a torch\.nn\.Module"):
        preflight.check(loader2(), model="resnet", loss=nn.BCELoss(), probe=False)


def test_raise_for_findings_and_json_match_the_cli_format():
    torch.manual_seed(0)
    report = preflight.check(loader2(shuffle=False), model=nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()),
                             loss=nn.BCELoss(), probe=False)
    with pytest.raises(FindingsError) as info:
        report.raise_for_findings()
    assert isinstance(info.value, preflight.PreflightError) and "PF301" in str(info.value)
    import json

    data = json.loads(report.to_json())
    assert [f["code"] for f in data["findings"]] == ["PF301"]
    assert set(data) == {"findings", "summary", "errors"}


def test_select_and_ignore_apply_to_live_objects():
    ds = sorted_ds()
    assert codes(preflight.check(DataLoader(ds, batch_size=32), select=["PF204"], probe=False)) == ["PF204"]
    assert codes(preflight.check(DataLoader(ds, batch_size=32), ignore=["PF2"], probe=False)) == []


# --- statistics ----------------------------------------------------------------------------------

def test_binom_sf_matches_direct_sums():
    from math import comb

    for n, q in ((10, 0.3), (40, 0.05), (7, 0.9)):
        for k in range(n + 2):
            direct = sum(comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k, n + 1))
            assert binom_sf(k, n, q) == pytest.approx(direct, rel=1e-9, abs=1e-15)


def test_pure_batch_probability_known_values():
    p = np.array([0.5, 0.5])
    assert pure_batch_probability(p, 4, 1.0) == pytest.approx(2 * 0.5**4)
    assert pure_batch_probability(np.array([1.0]), 32, 0.9) == 1.0


def test_purity_and_runs_on_sorted_versus_shuffled():
    pop = {0: 500, 1: 500}
    sorted_batches = [np.zeros(10)] * 5 + [np.ones(10)] * 5
    r = purity(sorted_batches, pop, 0.9)
    assert (r.pure, r.batches, r.share) == (10, 10, 1.0)
    assert r.expected == pytest.approx(2 * 11 / 1024)  # P(9 or 10 of 10 in one class)
    assert r.p_value == pytest.approx((2 * 11 / 1024) ** 10)
    rng = np.random.default_rng(0)
    mixed = [rng.integers(0, 2, 32) for _ in range(20)]
    assert purity(mixed, pop, 0.9).pure == 0
    runs = order_runs(np.repeat([0, 1], 500), pop)
    assert runs.runs == 2 and runs.expected == pytest.approx(500.5) and runs.z < -30
    shuffled = order_runs(rng.integers(0, 2, 1000), pop)
    assert abs(shuffled.z) < 4
