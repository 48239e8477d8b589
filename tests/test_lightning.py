"""PreflightCallback with the real Lightning package, on CPU: it stops a fit on a sorted, unnormalized
loader before any step, and lets a clean one train."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pytestmark = pytest.mark.slow  # imports Lightning and fits

L = pytest.importorskip("lightning.pytorch", reason="the lightning extra: pip install 'pytorch-preflight[lightning]'")

from preflight.errors import FindingsError  # noqa: E402
from preflight.lightning import PreflightCallback, find_loss  # noqa: E402


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2))
        self.criterion = nn.CrossEntropyLoss()
        self.steps = 0

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        self.steps += 1
        x, y = batch
        return self.criterion(self(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


class FromHook(Classifier):
    def __init__(self, loader):
        super().__init__()
        self.loader = loader

    def train_dataloader(self):
        return self.loader


def data(shift: float, sort: bool, shuffle: bool, n: int = 1024) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 6, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    if sort:
        o = torch.argsort(y, stable=True)
        X, y = X[o], y[o]
    return DataLoader(TensorDataset(X * (5 if shift else 1) + shift, y), batch_size=32, shuffle=shuffle)


def trainer(callback):
    return L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, callbacks=[callback])


def test_find_loss_reads_attributes_and_loss_children():
    m = Classifier()
    assert isinstance(find_loss(m), nn.CrossEntropyLoss)
    assert find_loss(nn.Sequential(nn.Linear(2, 2))) is None


def test_sorted_unnormalized_loader_stops_the_fit_before_any_step(caplog):
    torch.manual_seed(0)
    model = Classifier()
    cb = PreflightCallback(probe=False)
    with caplog.at_level(logging.WARNING, logger="preflight.lightning"), \
            pytest.raises(FindingsError, match=r"preflight found \d+ problem\(s\) at warning") as err:
        trainer(cb).fit(model, train_dataloaders=data(shift=50.0, sort=True, shuffle=False))
    assert model.steps == 0  # stopped before the first training step
    codes = {f.code for f in cb.report.findings}
    assert {"PF101", "PF203", "PF204"} <= codes
    assert "PF101" in str(err.value) and "PF101" in caplog.text


def test_clean_loader_trains():
    torch.manual_seed(0)
    model = Classifier()
    cb = PreflightCallback(probe=False)
    trainer(cb).fit(model, train_dataloaders=data(shift=0.0, sort=False, shuffle=True))
    assert cb.report is not None and cb.report.findings == ()
    assert model.steps == 1024 // 32


def test_loader_from_a_hook_is_read_at_train_start_with_probes():
    torch.manual_seed(0)
    model = FromHook(data(shift=50.0, sort=False, shuffle=True))
    cb = PreflightCallback(fail_on=None, probe_budget=2.0)  # only logs
    trainer(cb).fit(model)
    assert model.steps == 1024 // 32
    pf101 = [f for f in cb.report.findings if f.code == "PF101"]
    assert pf101 and pf101[0].probe is not None and pf101[0].probe.model == "user"
