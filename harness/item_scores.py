"""Per-item scores of a benchmark's primary metric, kept so the board can bootstrap its ranks.

lm-eval logs every item it scored (doc_id, its metrics, the filter that produced them). This turns a
benchmark's logged samples into one compact vector: an id per item ("task:doc_id", stable across
models, so two models' items pair up), the item's primary-metric score, and a weight that makes the
weighted item mean reproduce how the benchmark's value is built:

- one task, or an lm-eval group averaged by size: weight 1 (the plain item mean);
- Open LLM v2 normalized benchmarks: each item's raw score mapped by its subtask's normalization
  (x - b) / (1 - b), weight 1 / (items in its subtask), so the weighted mean is the unweighted mean
  of normalized subtask scores. The clipping at 0 of a subtask below chance is not applied per item
  (it is not linear); such a subtask enters the bootstrap slightly below the stored 0.

Items whose score is a list (IFEval's instruction-level accuracy) count as the list's mean. Numbers
only: a private benchmark's scores are kept like any other's, its items never are.
"""

from __future__ import annotations

from typing import Any

from benchmarks.spec import BenchmarkSpec
from harness.results import chance_level, leaves


def _split_metric(key: str) -> tuple[str, str]:
    """'exact_match,strict-match' -> ('exact_match', 'strict-match'); 'acc' -> ('acc', 'none')."""
    metric, _, filter_name = key.partition(",")
    return metric, filter_name or "none"


def _number(value: Any) -> float | None:
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, list | tuple) and value and all(isinstance(v, bool | int | float) for v in value):
        return sum(float(v) for v in value) / len(value)
    return None


def _sample_score(sample: dict[str, Any], metrics: list[tuple[str, str]]) -> float | None:
    """The mean of the wanted metrics on one logged sample, None when one is absent or not a number."""
    values = []
    for metric, filter_name in metrics:
        if str(sample.get("filter", "none")) != filter_name:
            return None
        value = _number(sample.get(metric))
        if value is None:
            return None
        values.append(value)
    return sum(values) / len(values) if values else None


def _leaf_scores(samples: list[dict[str, Any]], metrics: list[tuple[str, str]]) -> dict[int, float]:
    """doc_id -> score for one task. lm-eval logs each item once per filter: keep the wanted one."""
    filters = {filter_name for _, filter_name in metrics}
    scores: dict[int, float] = {}
    for sample in samples:
        if str(sample.get("filter", "none")) not in filters or not isinstance(sample.get("doc_id"), int):
            continue
        score = _sample_score(sample, metrics)
        if score is not None:
            scores[sample["doc_id"]] = score
    return scores


def extract(
    spec: BenchmarkSpec, task: str, results: dict[str, Any], samples: dict[str, list[dict[str, Any]]]
) -> dict[str, list[Any]] | None:
    """{"ids", "scores", "weights"} of `spec` run as `task`, or None when lm-eval logged no usable
    per-item score for its primary metric (the board then bootstraps without this benchmark)."""
    wanted = spec.normalize_metrics or (spec.primary_metric,)
    metrics = [_split_metric(key) for key in wanted]
    if len({filter_name for _, filter_name in metrics}) != 1:
        return None  # metrics under two filters are two records per item: no single item score
    ids: list[str] = []
    scores: list[float] = []
    weights: list[float] = []
    for leaf in leaves(task, results.get("group_subtasks", {})):
        by_doc = _leaf_scores(samples.get(leaf, []), metrics)
        if not by_doc:
            continue
        baseline = chance_level(spec, leaf, results, samples.get(leaf, [])) if spec.normalized else 0.0
        weight = 1.0 / len(by_doc) if spec.normalized else 1.0
        for doc_id in sorted(by_doc):
            ids.append(f"{leaf}:{doc_id}")
            scores.append((by_doc[doc_id] - baseline) / (1.0 - baseline))
            weights.append(weight)
    if not ids:
        return None
    return {"ids": ids, "scores": scores, "weights": weights}
