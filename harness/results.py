"""Turning lm-eval's results into metric rows: one per metric per task, subtasks included, plus
the Open LLM v2 normalized scores where a benchmark asks for them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks.spec import NORMALIZED_METRIC, BenchmarkSpec
from harness.normalize import SubtaskScore, normalized_mean


@dataclass
class MetricValue:
    benchmark: str
    task: str
    metric: str
    value: float
    stderr: float | None
    n: int | None
    is_primary: bool
    provenance: dict[str, Any]


def task_tree(name: str, group_subtasks: dict[str, list[str]]) -> list[str]:
    """The task or group and everything under it, depth first."""
    names = [name]
    for child in group_subtasks.get(name, []):
        names.extend(task_tree(child, group_subtasks))
    return names


def leaves(name: str, group_subtasks: dict[str, list[str]]) -> list[str]:
    return [task for task in task_tree(name, group_subtasks) if not group_subtasks.get(task)]


def numeric_metrics(task_results: dict[str, Any]) -> dict[str, tuple[float, float | None]]:
    """lm-eval keys look like 'acc,none' and 'acc_stderr,none'. The filter is kept in the name
    unless it is "none": 'acc', 'exact_match,strict-match'."""
    metrics: dict[str, tuple[float, float | None]] = {}
    for key, value in task_results.items():
        if "," not in key or "_stderr," in key or not isinstance(value, int | float):
            continue
        metric, filter_name = key.split(",", 1)
        stderr = task_results.get(f"{metric}_stderr,{filter_name}")
        stderr = float(stderr) if isinstance(stderr, int | float) else None
        metrics[metric if filter_name == "none" else key] = (float(value), stderr)
    return metrics


def chance_level(
    spec: BenchmarkSpec, task: str, results: dict[str, Any], samples: list[dict[str, Any]]
) -> float:
    """1/n for an n-way choice (the most common choice count among the task's items), 0 for
    generation; spec.subtask_baselines wins where a subtask's items vary (MuSR, MMLU-Pro)."""
    for suffix, baseline in spec.subtask_baselines.items():
        if task.endswith(suffix):
            return baseline
    if results.get("configs", {}).get(task, {}).get("output_type") != "multiple_choice" or not samples:
        return 0.0
    counts = Counter(len(sample.get("arguments") or ()) for sample in samples)
    choices = counts.most_common(1)[0][0]
    return 1.0 / choices if choices else 0.0


def metric_rows(
    spec: BenchmarkSpec,
    task: str,
    results: dict[str, Any],
    samples: dict[str, list[dict[str, Any]]],
    provenance: dict[str, Any],
) -> list[MetricValue]:
    group_subtasks: dict[str, list[str]] = results.get("group_subtasks", {})
    n_samples = results.get("n-samples", {})

    def count(name: str) -> int | None:
        found = [n_samples.get(leaf, {}).get("effective") for leaf in leaves(name, group_subtasks)]
        return sum(found) if found and all(isinstance(n, int) for n in found) else None

    rows: list[MetricValue] = []
    for name in task_tree(task, group_subtasks):
        for metric, (value, stderr) in numeric_metrics(results["results"].get(name, {})).items():
            primary = name == task and metric == spec.primary_metric and not spec.normalized
            rows.append(MetricValue(spec.name, name, metric, value, stderr, count(name), primary, provenance))

    if spec.normalized:
        rows.extend(_normalized_rows(spec, task, results, samples, provenance, count))
    if not any(row.is_primary for row in rows):
        raise RuntimeError(
            f"{task} produced no {spec.primary_metric!r} metric; got "
            f"{sorted(numeric_metrics(results['results'].get(task, {})))}"
        )
    return rows


def _normalized_rows(
    spec: BenchmarkSpec,
    task: str,
    results: dict[str, Any],
    samples: dict[str, list[dict[str, Any]]],
    provenance: dict[str, Any],
    count: Any,
) -> list[MetricValue]:
    parts: list[SubtaskScore] = []
    for leaf in leaves(task, results.get("group_subtasks", {})):
        metrics = numeric_metrics(results["results"].get(leaf, {}))
        wanted = spec.normalize_metrics or (spec.primary_metric,)
        missing = [m for m in wanted if m not in metrics]
        if missing:
            raise RuntimeError(f"{leaf} produced no {missing} to normalize; got {sorted(metrics)}")
        raw = sum(metrics[m][0] for m in wanted) / len(wanted)
        errors = [metrics[m][1] for m in wanted]
        stderr = (
            None if any(e is None for e in errors) else sum(e for e in errors if e is not None) / len(wanted)
        )
        parts.append(
            SubtaskScore(leaf, raw, stderr, chance_level(spec, leaf, results, samples.get(leaf, [])))
        )
    rows = [
        MetricValue(
            spec.name,
            part.task,
            NORMALIZED_METRIC,
            part.normalized,
            part.normalized_stderr,
            count(part.task),
            False,
            {**provenance, "random_baseline": part.baseline, "raw": part.raw},
        )
        for part in parts
    ]
    value, stderr = normalized_mean(parts)
    # A single-task benchmark's task is its only leaf: the benchmark row replaces the leaf row.
    rows = [row for row in rows if row.task != task]
    rows.append(
        MetricValue(
            spec.name,
            task,
            NORMALIZED_METRIC,
            value,
            stderr,
            count(task),
            True,
            {
                **provenance,
                "normalization": "(x - 1/n) / (1 - 1/n), clipped at 0, per subtask, then mean",
                "subtask_baselines": {part.task: part.baseline for part in parts},
            },
        )
    )
    return rows
