"""Per-column moments that merge exactly: count, missing, non-finite, mean, M2, min, max.

Vectorized over columns: every field is an array with one entry per column. Two ``Moments`` of
the same columns computed on disjoint chunks merge into the ``Moments`` of their union with the
parallel-variance update of Chan, Golub and LeVeque (1979), so a file read in batches, or by
several workers, gives the statistics of the whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    n: np.ndarray  # finite values
    missing: np.ndarray  # null / empty cells
    nonfinite: np.ndarray  # NaN, +inf, -inf
    pos_inf: np.ndarray
    neg_inf: np.ndarray
    mean: np.ndarray  # over finite values
    m2: np.ndarray  # sum of squared deviations from the mean, finite values
    min: np.ndarray
    max: np.ndarray

    @classmethod
    def empty(cls, k: int) -> Moments:
        z = np.zeros(k, dtype=np.int64)
        nan = np.full(k, np.nan)
        return cls(z, z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(k), np.zeros(k), nan, nan.copy())

    @classmethod
    def from_array(cls, a: np.ndarray, missing: np.ndarray | None = None) -> Moments:
        """Moments of each column of a 2-D float array. ``missing`` marks null cells (else none are)."""
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        finite = np.isfinite(a)
        if missing is None:
            missing = np.zeros(a.shape, dtype=bool)
        finite &= ~missing
        n = finite.sum(axis=0)
        safe = np.where(finite, a, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, safe.sum(axis=0) / np.maximum(n, 1), 0.0)
            dev = np.where(finite, a - mean, 0.0)
            m2 = (dev * dev).sum(axis=0)
        lo = np.where(finite, a, np.inf).min(axis=0, initial=np.inf)
        hi = np.where(finite, a, -np.inf).max(axis=0, initial=-np.inf)
        lo = np.where(n > 0, lo, np.nan)
        hi = np.where(n > 0, hi, np.nan)
        notmissing = ~missing
        return cls(
            n=n.astype(np.int64),
            missing=missing.sum(axis=0).astype(np.int64),
            nonfinite=((~np.isfinite(a)) & notmissing).sum(axis=0).astype(np.int64),
            pos_inf=(np.isposinf(a) & notmissing).sum(axis=0).astype(np.int64),
            neg_inf=(np.isneginf(a) & notmissing).sum(axis=0).astype(np.int64),
            mean=mean,
            m2=m2,
            min=lo,
            max=hi,
        )

    def merge(self, other: Moments) -> Moments:
        n = self.n + other.n
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            delta = other.mean - self.mean
            frac = np.where(n > 0, other.n / np.maximum(n, 1), 0.0)
            mean = self.mean + delta * frac
            # means near +-1e308 overflow delta; the weighted form cannot (each term <= max |x|)
            mean = np.where(np.isfinite(delta), mean, self.mean * (1.0 - frac) + other.mean * frac)
            m2 = self.m2 + other.m2 + delta * delta * self.n * frac
        mean = np.where(self.n == 0, other.mean, np.where(other.n == 0, self.mean, mean))
        m2 = np.where(self.n == 0, other.m2, np.where(other.n == 0, self.m2, m2))
        return Moments(
            n=n,
            missing=self.missing + other.missing,
            nonfinite=self.nonfinite + other.nonfinite,
            pos_inf=self.pos_inf + other.pos_inf,
            neg_inf=self.neg_inf + other.neg_inf,
            mean=mean,
            m2=m2,
            min=np.fmin(self.min, other.min),
            max=np.fmax(self.max, other.max),
        )

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation of the finite values (NaN where there are none)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, np.sqrt(np.maximum(self.m2, 0.0) / np.maximum(self.n, 1)), np.nan)

    @property
    def count(self) -> np.ndarray:
        """All cells: finite, missing and non-finite."""
        return self.n + self.missing + self.nonfinite

    def take(self, idx: list[int] | np.ndarray) -> Moments:
        return Moments(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))
