"""Bootstrap standard error for corpus-level metrics (BLEU, chrF): their score is not a mean of
sample scores, so the error comes from re-scoring resampled test sets (Koehn 2004)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

DEFAULT_ITERATIONS = 1000
SEED = 12345  # fixed: the same input always reports the same stderr


def bootstrap_stderr(
    segment_stats: Sequence[Sequence[float]],
    score_from_totals: Callable[[list[Any]], float],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = SEED,
) -> float | None:
    """Standard deviation of the corpus score over `iterations` resamples (with replacement) of the
    segments. `segment_stats` holds each segment's sufficient statistics (n-gram matches and
    totals); a resampled corpus's statistics are their sums, so no text is re-tokenized."""
    n = len(segment_stats)
    if n < 2 or iterations < 2:
        return None
    stats = np.asarray(segment_stats, dtype=np.int64)  # n-gram counts: sums stay exact
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(iterations, n))
    totals = np.stack([stats[row].sum(axis=0) for row in picks])
    scores = np.array([score_from_totals(t.tolist()) for t in totals])
    return float(scores.std(ddof=1))
