"""A training script that checks its setup with preflight before it trains.

    python examples/guard.py          # the setup as first written: stops, exit status 1
    python examples/guard.py --fixed  # shuffled loader, logits + BCEWithLogitsLoss: trains

The data arrive sorted by label (as exported from a database), the loader does not shuffle, and the
model ends in a sigmoid trained with BCELoss. ``preflight.check`` reads the sampler and the first
batches, runs one forward pass under ``no_grad``, and ``raise_for_findings`` stops the run before a
single step is wasted.
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import preflight


def make_setup(fixed: bool):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2048, 16, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).float()
    order = torch.argsort(y, stable=True)  # exported sorted by label
    dataset = TensorDataset(X[order], y[order])
    torch.manual_seed(0)
    if fixed:
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0))
        return DataLoader(dataset, batch_size=64, shuffle=True), model, nn.BCEWithLogitsLoss()
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid(), nn.Flatten(0))
    return DataLoader(dataset, batch_size=64), model, nn.BCELoss()


def main(argv: list[str]) -> int:
    loader, model, criterion = make_setup(fixed="--fixed" in argv)
    report = preflight.check(loader, model=model, loss=criterion)
    try:
        report.raise_for_findings()
    except preflight.PreflightError as exc:
        print(f"not training: {exc.format_message()}", file=sys.stderr)
        for finding in report.at_or_above("warning"):
            print(f"  {finding.code} fix: {finding.fix}", file=sys.stderr)
        return 1
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(3):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch + 1}: loss {total / len(loader.dataset):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
