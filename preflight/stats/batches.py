"""Statistics of the batches a loader yields: label purity and label runs, against what shuffling gives.

Pure numpy and ``math``; property-testable. ``population`` is the class distribution of the whole
dataset (or of a random sample of it), so a loader that yields class 0 for its first 64 batches is
compared with the classes it *should* mix, not with the ones it happened to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Purity:
    batches: int  # batches with at least two labels
    pure: int  # batches whose majority class holds at least ``purity`` of the batch
    share: float  # pure / batches
    expected: float  # the share a shuffled loader gives, with the population's class proportions
    p_value: float  # P(at least ``pure`` such batches | shuffled)


@dataclass(frozen=True)
class OrderRuns:
    n: int
    runs: int
    expected: float
    z: float
    ratio: float


def proportions(population: Mapping[object, int]) -> np.ndarray:
    counts = np.array([c for c in population.values() if c > 0], dtype=np.float64)
    return counts / counts.sum() if counts.size else counts


def majority_fraction(labels: np.ndarray) -> float:
    if labels.size == 0:
        return 0.0
    _, counts = np.unique(labels, return_counts=True)
    return float(counts.max() / labels.size)


def binom_sf(k: int, n: int, q: float) -> float:
    """P(X >= k) for X ~ Binomial(n, q), summed in log space (no scipy)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lq, l1q = math.log(q), math.log1p(-q)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lq + (n - i) * l1q
             for i in range(k, n + 1)]
    m = max(terms)
    return min(1.0, math.exp(m) * sum(math.exp(t - m) for t in terms))


def pure_batch_probability(p: np.ndarray, size: int, purity: float) -> float:
    """P(the majority class of a random batch of ``size`` holds >= ``purity`` of it).

    Draws with replacement from class proportions ``p``; for purity > 1/2 at most one class can
    reach it, so the per-class binomial tails add up exactly.
    """
    if size < 2 or p.size == 0:
        return 1.0
    need = math.ceil(purity * size - 1e-9)
    return min(1.0, sum(binom_sf(need, size, float(pk)) for pk in p))


def purity(batch_labels: Sequence[np.ndarray], population: Mapping[object, int], threshold: float) -> Purity | None:
    """How many batches are label-pure (majority class >= ``threshold``), against shuffled batches."""
    sized = [np.asarray(b) for b in batch_labels if np.asarray(b).size >= 2]
    if not sized:
        return None
    p = proportions(population)
    pure = sum(majority_fraction(b) >= threshold for b in sized)
    expected = float(np.mean([pure_batch_probability(p, b.size, threshold) for b in sized]))
    share = pure / len(sized)
    return Purity(len(sized), pure, share, expected, binom_sf(pure, len(sized), expected))


def order_runs(labels: np.ndarray, population: Mapping[object, int]) -> OrderRuns | None:
    """Runs of equal labels in loader order against a shuffled order with the population's proportions.

    Under shuffling the change indicators I_i = [y_i != y_{i-1}] have mean q = 1 - sum p^2 and are
    1-dependent, so Var(runs) = (n-1) q (1-q) + 2 (n-2) (P(y0 != y1 != y2) - q^2).
    """
    y = np.asarray(labels)
    n = y.size
    p = proportions(population)
    if n < 3 or p.size < 2:
        return None
    runs = 1 + int(np.count_nonzero(y[1:] != y[:-1]))
    s2, s3 = float((p * p).sum()), float((p ** 3).sum())
    q = 1.0 - s2
    expected = 1.0 + (n - 1) * q
    two = 1.0 - 2.0 * s2 + s3  # P(y0 != y1 and y1 != y2)
    var = (n - 1) * q * (1 - q) + 2 * (n - 2) * (two - q * q)
    z = (runs - expected) / math.sqrt(var) if var > 0 else 0.0
    return OrderRuns(n, runs, expected, z, runs / expected if expected else 1.0)
