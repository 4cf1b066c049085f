"""The statistics behind honest ranks: a seeded, paired percentile bootstrap over benchmark items.

A resample draws a benchmark's n items n times with replacement. It is kept as a count matrix
(rounds x n: how often each item was drawn in each round), so every model's resampled means on that
benchmark are one matrix product, and every model scored on the same items gets the *same* draws:
the comparison of two models is paired by construction. The draws are seeded by a digest of the
item set, so the same items always give the same resamples (figures are reproducible, and the
per-model interval and the pairwise probabilities use one and the same resampling).

A benchmark's statistic in one round is its weighted item mean (harness/item_scores.py chooses
the weights so that this is how the benchmark's score is built); a model's average in one round is
the mean of its benchmarks' statistics, as the board's average is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from app.leaderboard.item_store import ItemSetData, digest_of
from app.leaderboard.ties import LEVEL

ROUNDS = 1000
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


# Scores of 0 or 1 make every resampled sum an integer from 0 to n (a round draws n items). float32
# holds integers below 2**24 exactly, so the product counts @ scores is exact whatever order the
# BLAS library adds in, and several models fit in one column: with s = n.bit_length() bits each,
# sum_j 2**(s*j) * S_j stays below 2**24 for 24 // s models, and one product computes them all.
EXACT_BITS = 24
BINARY_MAX_ITEMS = 2**19  # beyond this 1/n nears TIE_TOLERANCE: p_above_binary_rows would not hold


class Scratch:
    """Arrays kept for reuse by name: memory touched for the first time is slow to get (here about
    4 microseconds a 4 KB page, as much as the matrix products on it), so a computation over many
    blocks lends them the same arrays instead of fresh ones."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type[np.generic] = np.float32) -> np.ndarray:
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        found = self._arrays.get(name)
        if found is None or found.nbytes < size:
            found = self._arrays[name] = np.empty(size, dtype=np.uint8)
        return found[:size].view(dtype).reshape(shape)


def resampled_means_binary(
    counts: np.ndarray, scores: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """(k, rounds): resampled_means(counts, scores.T, None).T, bit for bit, for 0/1 scores (k, n)
    (n <= BINARY_MAX_ITEMS), with a 2 to 3 times smaller matrix product (see EXACT_BITS). Written
    into `out` (k, rounds) float32 when given; intermediate arrays from `scratch`."""
    scratch = scratch or Scratch()
    models, n = scores.shape
    shift = max(n.bit_length(), 1)
    per_column = max(EXACT_BITS // shift, 1)
    scale = np.float32(2.0**shift)
    # Model m goes to column m // per_column, slot m % per_column: Horner's scheme, top slot first.
    packed = scratch.get("packed", (-(-models // per_column), n))
    packed.fill(0)
    for slot in range(per_column - 1, -1, -1):
        mine = scores[slot::per_column]
        if slot < per_column - 1:
            packed *= scale
        np.add(packed[: len(mine)], mine, out=packed[: len(mine)])
    sums = np.matmul(packed, counts.T, out=scratch.get("sums", (len(packed), counts.shape[0])))
    means = np.empty((models, counts.shape[0]), dtype=np.float32) if out is None else out
    # Each model's sum, from the top slot down: scaling by powers of 2, floor and subtraction are
    # exact on these integers. Slot 0's rows hold the intermediate products until they get theirs.
    lowest = means[0::per_column]
    for slot in range(per_column - 1, 0, -1):
        mine, size = means[slot::per_column], len(means[slot::per_column])
        np.floor(np.multiply(sums[:size], np.float32(2.0 ** (-shift * slot)), out=mine), out=mine)
        np.multiply(mine, np.float32(2.0 ** (shift * slot)), out=lowest[:size])
        np.subtract(sums[:size], lowest[:size], out=sums[:size])
    lowest[:] = sums
    return np.divide(means, np.float32(n), out=means)  # as resampled_means: float32 sum / float32 n


def mean_rounds(parts: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """np.mean(np.stack(parts), axis=0) for float32 parts (rounds) or (rows, rounds), written into
    `out`, without the stacked copy: the float32 sums in the parts' order (np.mean's reduction over
    the stacked axis adds them one after the other), then np.mean's own division."""
    np.copyto(out, parts[0])
    for part in parts[1:]:
        out += part
    return np.true_divide(out, np.intp(len(parts)), out=out, casting="unsafe")


def shared_item_rounds(
    set_a: ItemSetData, scores_a: np.ndarray, set_b: ItemSetData, scores_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Two models scored on different item sets, resampled on the items both sets hold (drawn by
    the digest of those items, with set_a's weights): their rounds, or None when they share none."""
    position = {item: index for index, item in enumerate(set_b.ids)}
    pairs = [(index, position[item]) for index, item in enumerate(set_a.ids) if item in position]
    if not pairs:
        return None
    in_a = np.array([a for a, _ in pairs])
    in_b = np.array([b for _, b in pairs])
    weights = None if set_a.weights is None else set_a.weights[in_a]
    counts = resample_counts(digest_of([set_a.ids[index] for index in in_a], weights), len(pairs))
    rounds = resampled_means(counts, np.stack([scores_a[in_a], scores_b[in_b]], 1), weights)
    return rounds[:, 0], rounds[:, 1]


def run_of(index: np.ndarray) -> slice | None:
    """A sorted index as a slice, when it is a run of consecutive rows."""
    if len(index) and index[-1] - index[0] == len(index) - 1 and np.all(np.diff(index) == 1):
        return slice(int(index[0]), int(index[-1]) + 1)
    return None


def take_rows(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """array[index]: a view, not a copy, when the index is a run of consecutive rows."""
    run = run_of(index)
    return array[index] if run is None else array[run]


def p_above(upper: np.ndarray, lower: np.ndarray) -> float:
    """Share of rounds in which `upper`'s statistic beats `lower`'s; a tie counts half."""
    difference = upper.astype(np.float64) - lower.astype(np.float64)
    wins = np.count_nonzero(difference > TIE_TOLERANCE)
    ties = np.count_nonzero(np.abs(difference) <= TIE_TOLERANCE)
    return float((wins + 0.5 * ties) / difference.size)


def p_above_rows(upper: np.ndarray, lower: np.ndarray, scratch: Scratch | None = None) -> np.ndarray:
    """p_above of each row of `upper` (m, rounds) against the same row of `lower`: the same numbers,
    computed for all rows at once (float64)."""
    buffer = (scratch or Scratch()).get("difference", upper.shape, np.float64)
    difference = np.subtract(upper, lower, dtype=np.float64, out=buffer)
    wins = np.count_nonzero(difference > TIE_TOLERANCE, axis=1)
    ties = np.count_nonzero(np.abs(difference) <= TIE_TOLERANCE, axis=1)
    return (wins + 0.5 * ties) / difference.shape[1]


def p_above_binary_rows(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """p_above_rows for two models' resampled_means_binary on the same items (n <= BINARY_MAX_ITEMS),
    without the float64 copies: both are k / n rounded to float32, so two rounds that differ differ
    by about 1/n or more, far beyond TIE_TOLERANCE, and a tie is equality."""
    wins = np.count_nonzero(upper > lower, axis=1)
    ties = np.count_nonzero(upper == lower, axis=1)
    return (wins + 0.5 * ties) / upper.shape[1]


def percentile_interval(rounds: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` percentile interval of a resampled statistic."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(rounds.astype(np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def percentile_intervals(
    rounds: np.ndarray, level: float = LEVEL, scratch: Scratch | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """percentile_interval of each row of `rounds` (m, rounds), all at once: (lows, highs)."""
    tail = (1.0 - level) / 2.0 * 100.0
    widened = (scratch or Scratch()).get("widened", rounds.shape, np.float64)
    np.copyto(widened, rounds)
    # overwrite_input: the float64 copy is ours to reorder (np.percentile would copy it again)
    low, high = np.percentile(widened, [tail, 100.0 - tail], axis=1, overwrite_input=True)
    return low, high


def item_mean(scores: np.ndarray, weights: np.ndarray | None) -> float:
    """The statistic on the items themselves (no resampling)."""
    if weights is None:
        return float(np.mean(scores))
    return float(np.sum(scores * weights) / np.sum(weights))
