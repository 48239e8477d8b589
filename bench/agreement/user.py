"""Independent trainings, written the way a user writes them: plain torch, ``nn.Sequential``, a
mini-batch loop (a ``DataLoader``'s batches), a random 25% held-out split, and the rule's fix
applied with pandas/numpy code of this file's own. Imports nothing from ``preflight.probes`` (nor
from preflight at all).

Setups (each 3 seeds, 30 epochs, batch 32, held-out loss after every epoch):

* ``adam``: MLP d-64-out (ReLU), Adam lr 1e-3 (torch's default);
* ``sgd``: the same MLP, SGD lr 0.01 momentum 0.9;
* ``deep``: three hidden layers of 64 (ReLU), Adam lr 1e-3.

The user's verdict per setup: the fix *helps* when the fixed run's held-out loss after the last
epoch is lower than the as-is run's in every seed, by at least ``CLEAR`` (2%) of it; for the class
imbalance fix the compared number is 1 - balanced accuracy instead of the loss. A run whose loss is
NaN/inf has failed (a failed as-is run against a trained fixed one: the fix helps).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import torch
from torch import nn

SETUPS = ("adam", "sgd", "deep")
SEEDS = tuple(int(s) for s in os.environ.get("AGREEMENT_SEEDS", "0,1,2").split(","))  # a retest: 3,4,5
EPOCHS = 30
BATCH = 32
MAX_ROWS = 3000  # bounded cost: a longer table is thinned to every k-th row, in shipped order
CLEAR = 0.02


def features_and_target(df: pd.DataFrame, target: str, task: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The numeric columns (bools as 0/1; text that parses as numbers) and the target, as a user prepares them."""
    X = pd.DataFrame(index=df.index)
    for c in df.columns:
        if c == target:
            continue
        s = df[c]
        if s.dtype == bool or pd.api.types.is_numeric_dtype(s):
            X[c] = s.astype(float)
        else:
            num = pd.to_numeric(s, errors="coerce")
            if num.notna().sum() == s.notna().sum() and s.notna().any():
                X[c] = num
    y_raw = df[target]
    if task == "c":
        y = pd.factorize(y_raw.astype(str).where(y_raw.notna()), sort=True)[0].astype(float)
        y[y < 0] = np.nan
    else:
        y = pd.to_numeric(y_raw, errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(y)
    X, y = X[keep].reset_index(drop=True), y[keep]
    if len(y) > MAX_ROWS:
        k = -(-len(y) // MAX_ROWS)
        X, y = X.iloc[::k].reset_index(drop=True), y[::k]
    return X, y


def _standardize(tr: pd.DataFrame, te: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tr, te = tr.copy(), te.copy()
    for c in cols:
        mu, sd = tr[c].mean(), tr[c].std()
        sd = sd if sd and np.isfinite(sd) and sd > 0 else 1.0
        tr[c], te[c] = (tr[c] - mu) / sd, (te[c] - mu) / sd
    return tr, te


def _fill(tr: pd.DataFrame, te: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tr, te = tr.copy(), te.copy()
    for c in cols:
        m = tr[c].mean()
        m = 0.0 if not np.isfinite(m) else m
        tr[c], te[c] = tr[c].fillna(m), te[c].fillna(m)
    return tr, te


def variants(code: str, tr: pd.DataFrame, te: pd.DataFrame, columns: list[str]):
    """(as-is train, as-is test, fixed train, fixed test, shuffle as-is, shuffle fixed, weighted fixed)."""
    every = list(tr.columns)
    cols = [c for c in columns if c in every]
    if code == "PF104":
        keep_nan = cols or [c for c in every if tr[c].isna().any() or te[c].isna().any()]
        a_tr, a_te = _fill(tr, te, [c for c in every if c not in keep_nan])
        f_tr, f_te = _fill(tr, te, every)
        return a_tr, a_te, f_tr, f_te, True, True, False
    tr, te = _fill(tr, te, every)
    if code == "PF101":
        f_tr, f_te = _standardize(tr, te, cols)
        return tr, te, f_tr, f_te, True, True, False
    if code == "PF102":
        f_tr, f_te = _standardize(tr, te, every)
        return tr, te, f_tr, f_te, True, True, False
    if code == "PF103":  # the naive (x - mean) / std on every column against dropping the constant ones
        a_tr = (tr - tr.mean()) / tr.std()
        a_te = (te - tr.mean()) / tr.std()
        rest = [c for c in every if c not in cols]
        f_tr, f_te = _standardize(tr[rest], te[rest], rest)
        return a_tr, a_te, f_tr, f_te, True, True, False
    s_tr, s_te = _standardize(tr, te, every)
    if code == "PF105":
        rest = [c for c in every if c not in cols]
        return s_tr, s_te, s_tr[rest], s_te[rest], True, True, False
    if code in ("PF201", "PF202"):
        return s_tr, s_te, s_tr, s_te, False, True, False
    if code == "PF111":
        return s_tr, s_te, s_tr, s_te, True, True, True
    raise KeyError(code)


def model(setup: str, d: int, out: int) -> nn.Module:
    if setup == "deep":
        return nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                             nn.Linear(64, out))
    return nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, out))


def balanced_accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([np.mean(pred[y == k] == k) for k in np.unique(y)]))


def train_one(setup: str, seed: int, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray,
              task: str, n_classes: int, shuffle: bool, weighted: bool) -> dict[str, list[float]]:
    torch.manual_seed(seed)
    out = n_classes if task == "c" else 1
    net = model(setup, Xtr.shape[1], out)
    opt = (torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9) if setup == "sgd"
           else torch.optim.Adam(net.parameters(), lr=1e-3))
    if task == "c":
        weight = None
        if weighted:
            counts = np.bincount(ytr.astype(int), minlength=n_classes).astype(float)
            weight = torch.tensor(len(ytr) / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
        loss_fn: nn.Module = nn.CrossEntropyLoss(weight=weight)
        eval_fn: nn.Module = nn.CrossEntropyLoss()
        yt, ye = torch.tensor(ytr, dtype=torch.long), torch.tensor(yte, dtype=torch.long)
    else:
        loss_fn = eval_fn = nn.MSELoss()
        yt, ye = torch.tensor(ytr, dtype=torch.float32)[:, None], torch.tensor(yte, dtype=torch.float32)[:, None]
    xt, xe = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    losses, bal = [], []
    for _ in range(EPOCHS):
        net.train()
        # what DataLoader(TensorDataset(xt, yt), batch_size=32, shuffle=shuffle) yields, without its
        # per-row collation cost: a permutation (or file order) cut into batches, the last one short
        order = torch.randperm(len(xt), generator=gen) if shuffle else torch.arange(len(xt))
        for i in range(0, len(xt), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            z = net(xe)
            v = float(eval_fn(z, ye))
            losses.append(v if math.isfinite(v) else float("nan"))
            if task == "c":
                bal.append(balanced_accuracy(z.argmax(1).numpy(), yte) if torch.isfinite(z).all() else float("nan"))
    return {"loss": losses, "balanced_accuracy": bal}


def user_runs(df: pd.DataFrame, target: str, task: str, code: str, columns: list[str],
              setups: tuple[str, ...] = SETUPS) -> dict[str, object]:
    """Every setup x seed x variant for one finding: per-epoch held-out losses (and balanced accuracy)."""
    torch.set_num_threads(1)
    X, y = features_and_target(df, target, task)
    n_classes = int(np.nanmax(y)) + 1 if task == "c" else 0
    out: dict[str, object] = {"rows": len(y), "features": list(X.columns)}
    runs: dict[str, dict[str, list[dict[str, list[float]]]]] = {}
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        test = np.zeros(len(y), bool)
        test[rng.choice(len(y), size=max(1, len(y) // 4), replace=False)] = True
        tr_idx, te_idx = np.flatnonzero(~test), np.flatnonzero(test)  # training rows keep the shipped order
        y_tr, y_te = y[tr_idx], y[te_idx]
        if task == "r":
            mu, sd = y_tr.mean(), y_tr.std() or 1.0
            y_tr, y_te = (y_tr - mu) / sd, (y_te - mu) / sd
        a_tr, a_te, f_tr, f_te, sh_a, sh_f, w_f = variants(code, X.iloc[tr_idx], X.iloc[te_idx], columns)
        for setup in setups:
            for side, Xa, Xb, sh, w in (("as_is", a_tr, a_te, sh_a, False), ("fixed", f_tr, f_te, sh_f, w_f)):
                r = train_one(setup, seed, Xa.to_numpy(float), y_tr, Xb.to_numpy(float), y_te, task, n_classes,
                              sh, w)
                runs.setdefault(setup, {}).setdefault(side, []).append(r)
    out["runs"] = runs
    return out


def helps(runs: dict[str, list[dict[str, list[float]]]], imbalance: bool, at: str = "last") -> tuple[bool, int]:
    """Whether the fix clearly helps in every seed of one setup, and in how many seeds it helps at all."""
    key = "balanced_accuracy" if imbalance else "loss"
    wins = clear = 0
    for a, f in zip(runs["as_is"], runs["fixed"]):
        va, vf = np.asarray(a[key], float), np.asarray(f[key], float)
        if imbalance:
            va, vf = 1 - va, 1 - vf
        pa = va[-1] if at == "last" else (np.nanmin(va) if np.isfinite(va).any() else np.nan)
        pf = vf[-1] if at == "last" else (np.nanmin(vf) if np.isfinite(vf).any() else np.nan)
        if not np.isfinite(pf):
            continue
        if not np.isfinite(pa):
            wins += 1
            clear += 1
            continue
        wins += int(pf < pa)
        clear += int(pf <= pa * (1 - CLEAR) and pa - pf > 1e-4)
    return clear == len(runs["as_is"]), wins
