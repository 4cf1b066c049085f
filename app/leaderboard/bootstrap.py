"""The statistics behind honest ranks: a seeded, paired percentile bootstrap over benchmark items.

A resample draws a benchmark's n items n times with replacement. It is kept as a count matrix
(rounds x n: how often each item was drawn in each round), so every model's resampled means on that
benchmark are one matrix product, and every model scored on the same items gets the *same* draws:
the comparison of two models is paired by construction. The draws are seeded by a digest of the
item set, so the same items always give the same resamples (figures are reproducible, and the
per-model interval and the pairwise probabilities use one and the same resampling).

A benchmark's statistic in one round is its weighted item mean (benchmarks/item_scores.py chooses
the weights so that this is how the benchmark's score is built); a model's average in one round is
the mean of its benchmarks' statistics, as the board's average is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

ROUNDS = 1000
LEVEL = 0.95  # a pair is distinguishable when P(upper really above lower) >= LEVEL
# Two resampled statistics closer than this are the same number computed along two float paths
# (float32 products): counted as a tie, so identical models come out at P = 0.5 exactly.
TIE_TOLERANCE = 1e-6
CACHE_BYTES = 256 * 2**20  # count matrices kept between calls (a full pass reuses each for every row)

_counts_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def seed_of(digest: str) -> int:
    """A stable 64-bit seed from an item set's digest (hex)."""
    return int(hashlib.sha256(f"evalboard-bootstrap:{digest}".encode()).hexdigest()[:16], 16)


def resample_counts(digest: str, n: int, rounds: int = ROUNDS) -> np.ndarray:
    """(rounds, n) float32: how often each of the n items is drawn in each round, seeded by `digest`."""
    key = f"{digest}:{n}:{rounds}"
    found = _counts_cache.get(key)
    if found is not None:
        _counts_cache.move_to_end(key)
        return found
    rng = np.random.default_rng(seed_of(digest))
    counts = np.empty((rounds, n), dtype=np.float32)
    block = 100  # rounds drawn at once: bounds the index array for benchmarks of many items
    for start in range(0, rounds, block):
        size = min(block, rounds - start)
        draws = rng.integers(0, n, size=(size, n), dtype=np.int64)
        draws += np.arange(size, dtype=np.int64)[:, None] * n  # one bincount for the whole block
        counts[start : start + size] = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
    _counts_cache[key] = counts
    while sum(m.nbytes for m in _counts_cache.values()) > CACHE_BYTES and len(_counts_cache) > 1:
        _counts_cache.popitem(last=False)
    return counts


def resampled_means(counts: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """(rounds, k): each round's weighted item mean for k models at once. scores: (n, k) or (n,)."""
    matrix = scores.reshape(scores.shape[0], -1).astype(np.float32)
    if weights is None:
        return (counts @ matrix) / np.float32(counts.shape[1])
    weighted = counts @ (matrix * weights.astype(np.float32)[:, None])
    total = counts @ weights.astype(np.float32)
    return weighted / np.where(total > 0, total, 1.0)[:, None]


def p_above(upper: np.ndarray, lower: np.ndarray) -> float:
    """Share of rounds in which `upper`'s statistic beats `lower`'s; a tie counts half."""
    difference = upper.astype(np.float64) - lower.astype(np.float64)
    wins = np.count_nonzero(difference > TIE_TOLERANCE)
    ties = np.count_nonzero(np.abs(difference) <= TIE_TOLERANCE)
    return float((wins + 0.5 * ties) / difference.size)


def tied(p: float | None) -> bool | None:
    """One-sided rule: the upper model is above the lower one at 95 % when P >= 0.95; else tied."""
    return None if p is None else p < LEVEL


def percentile_interval(rounds: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` percentile interval of a resampled statistic."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(rounds.astype(np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def item_mean(scores: np.ndarray, weights: np.ndarray | None) -> float:
    """The statistic on the items themselves (no resampling)."""
    if weights is None:
        return float(np.mean(scores))
    return float(np.sum(scores * weights) / np.sum(weights))
