"""The rank bootstrap's statistics on constructed per-item scores whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from app.leaderboard import bootstrap, item_store, ties
from benchmarks.spec import NORMALIZED_MEAN, BenchmarkSpec
from harness.item_scores import extract

HALF = np.array([1.0, 0.0] * 50, dtype=np.float32)


def _rounds(digest: str, *columns: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    counts = bootstrap.resample_counts(digest, len(columns[0]))
    return bootstrap.resampled_means(counts, np.stack(columns, axis=1), weights)


def test_identical_models_are_tied_at_one_half() -> None:
    rounds = _rounds("identical", HALF, HALF.copy())
    p = bootstrap.p_above(rounds[:, 0], rounds[:, 1])
    assert p == 0.5
    assert ties.tied(p) is True


def test_a_model_right_wherever_the_other_is_wrong_is_above_it_with_certainty() -> None:
    better = np.ones_like(HALF)  # right on every item HALF misses, and on the ones it gets
    rounds = _rounds("dominating", better, HALF)
    assert bootstrap.p_above(rounds[:, 0], rounds[:, 1]) == 1.0
    assert ties.tied(1.0) is False
    assert bootstrap.p_above(rounds[:, 1], rounds[:, 0]) == 0.0


def test_one_item_apart_is_not_distinguishable() -> None:
    nearly = HALF.copy()
    nearly[1] = 1.0  # one more right answer out of 100
    rounds = _rounds("one-apart", nearly, HALF)
    p = bootstrap.p_above(rounds[:, 0], rounds[:, 1])
    # Only resamples that draw item 1 separate them (about 63 % of them): never 95 %.
    assert 0.6 < p < 0.95
    assert ties.tied(p) is True


def test_the_interval_contains_the_mean_and_narrows_with_more_items() -> None:
    small = _rounds("small", HALF[:20])[:, 0]
    large = _rounds("large", np.tile(HALF, 20))[:, 0]
    for rounds in (small, large):
        low, high = bootstrap.percentile_interval(rounds)
        assert low < 0.5 < high
    assert np.subtract(*bootstrap.percentile_interval(large)[::-1]) < np.subtract(
        *bootstrap.percentile_interval(small)[::-1]
    )
    constant = _rounds("constant", np.ones(30, dtype=np.float32))[:, 0]
    assert bootstrap.percentile_interval(constant) == pytest.approx((1.0, 1.0))


def test_resamples_are_seeded_by_the_item_set() -> None:
    first = bootstrap.resample_counts("seeded-a", 57)
    bootstrap._counts_cache.clear()  # drawn again, not read back from the cache
    assert np.array_equal(first, bootstrap.resample_counts("seeded-a", 57))
    assert not np.array_equal(first, bootstrap.resample_counts("seeded-b", 57))
    assert first.shape == (bootstrap.ROUNDS, 57)
    assert set(first.sum(axis=1)) == {57.0}  # every round draws n items


def test_weights_make_each_subtask_count_equally() -> None:
    # Subtask a: 4 items all right; subtask b: 1 item wrong. Unweighted mean 0.8, subtask mean 0.5.
    scores = np.array([1, 1, 1, 1, 0], dtype=np.float32)
    weights = np.array([0.25] * 4 + [1.0], dtype=np.float32)
    assert bootstrap.item_mean(scores, weights) == pytest.approx(0.5)
    # Three rounds: item 0 drawn five times, item 4 five times, every item once.
    counts = np.array([[5, 0, 0, 0, 0], [0, 0, 0, 0, 5], [1, 1, 1, 1, 1]], dtype=np.float32)
    assert bootstrap.resampled_means(counts, scores, weights)[:, 0] == pytest.approx([1.0, 0.0, 0.5])


def test_scores_pack_to_bits_when_right_or_wrong() -> None:
    encoding, blob = item_store.encode_scores(HALF)
    assert encoding == item_store.BITS and len(blob) == 13  # 100 scores in 13 bytes
    assert np.array_equal(item_store.decode_scores(encoding, blob, 100), HALF)
    graded = np.array([0.25, 0.5, 1.0], dtype=np.float32)
    encoding, blob = item_store.encode_scores(graded)
    assert encoding == item_store.FLOAT32
    assert np.array_equal(item_store.decode_scores(encoding, blob, 3), graded)


def _spec(**overrides: object) -> BenchmarkSpec:
    values: dict[str, object] = {
        "name": "b",
        "task": "grp",
        "display_en": "B",
        "display_ko": "비",
        "num_fewshot": 0,
        "primary_metric": "exact_match,strict-match",
        "language": "ko",
        "random_baseline": 0.0,
        "version": "1",
    }
    values.update(overrides)
    return BenchmarkSpec(**values)  # type: ignore[arg-type]


def test_item_scores_follow_the_primary_metric_and_its_filter() -> None:
    samples = {
        "grp": [
            {"doc_id": 0, "filter": "strict-match", "exact_match": 1.0},
            {"doc_id": 0, "filter": "flexible-extract", "exact_match": 0.0},
            {"doc_id": 1, "filter": "strict-match", "exact_match": 0.0},
            {"doc_id": 1, "filter": "flexible-extract", "exact_match": 1.0},
        ]
    }
    found = extract(_spec(), "grp", {"results": {}}, samples)
    assert found == {"ids": ["grp:0", "grp:1"], "scores": [1.0, 0.0], "weights": [1.0, 1.0]}
    assert extract(_spec(primary_metric="acc"), "grp", {"results": {}}, samples) is None


def test_normalized_item_scores_are_rescaled_and_weighted_per_subtask() -> None:
    spec = _spec(
        primary_metric="acc", aggregation=NORMALIZED_MEAN, subtask_baselines={"_two": 0.5, "_four": 0.25}
    )
    results = {"results": {}, "group_subtasks": {"grp": ["grp_two", "grp_four"]}}
    samples = {
        "grp_two": [{"doc_id": i, "filter": "none", "acc": float(i < 1)} for i in range(2)],
        "grp_four": [{"doc_id": i, "filter": "none", "acc": float(i < 4)} for i in range(4)],
    }
    found = extract(spec, "grp", results, samples)
    assert found is not None
    assert found["ids"][:2] == ["grp_two:0", "grp_two:1"]
    assert found["scores"] == pytest.approx([1.0, -1.0, 1.0, 1.0, 1.0, 1.0])
    assert found["weights"] == pytest.approx([0.5, 0.5, 0.25, 0.25, 0.25, 0.25])
    # The weighted mean is the mean of normalized subtask scores: (0 + 1) / 2.
    mean = bootstrap.item_mean(np.array(found["scores"]), np.array(found["weights"]))
    assert mean == pytest.approx(0.5)


@pytest.mark.parametrize("n", [1, 8, 200, 255, 256, 1850, 4095, 4096, 5000])
def test_binary_means_are_the_matrix_product_to_the_bit(n: int) -> None:
    # Two or three models share a column of the product below 4,096 items; the packing must not
    # change one bit of any model's means, whatever its scores (all right: the largest sums).
    rng = np.random.default_rng(n)
    scores = (rng.random((7, n)) < rng.random((7, 1))).astype(np.uint8)
    scores[0] = 1
    counts = bootstrap.resample_counts(f"binary-{n}", n)
    expected = bootstrap.resampled_means(counts, scores.T.astype(np.float32), None).T
    scratch = bootstrap.Scratch()
    out = np.full((9, bootstrap.ROUNDS), np.nan, dtype=np.float32)
    assert np.array_equal(bootstrap.resampled_means_binary(counts, scores, out[1:8], scratch), expected)
    assert np.array_equal(out[1:8], expected) and np.isnan(out[[0, 8]]).all()  # written in place, only there
    assert np.array_equal(bootstrap.resampled_means_binary(counts, scores[:5], scratch=scratch), expected[:5])


def test_whole_array_statistics_are_the_row_by_row_ones() -> None:
    rng = np.random.default_rng(5)
    parts = [
        (rng.integers(0, 97, (6, bootstrap.ROUNDS)) / np.float32(97)).astype(np.float32) for _ in range(12)
    ]
    averages = bootstrap.mean_rounds(parts, np.empty((6, bootstrap.ROUNDS), dtype=np.float32))
    lows, highs = bootstrap.percentile_intervals(averages)
    nudged = averages + rng.normal(0, 2e-6, averages.shape).astype(np.float32)  # some within the tolerance
    for row in range(6):
        assert np.array_equal(averages[row], np.mean(np.stack([part[row] for part in parts]), axis=0))
        assert (lows[row], highs[row]) == bootstrap.percentile_interval(averages[row])
        p = bootstrap.p_above_rows(averages, nudged)[row]
        assert p == bootstrap.p_above(averages[row], nudged[row]) and p != 0.5
        binary = bootstrap.p_above_binary_rows(parts[0], parts[1])[row]
        assert binary == bootstrap.p_above(parts[0][row], parts[1][row])
    assert 0.0 < bootstrap.p_above_binary_rows(parts[0], parts[1]).min() < 1.0
