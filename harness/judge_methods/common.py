"""What the judge methods share: their metric rows and how repeated grading is summarized."""

from __future__ import annotations

from typing import Any

from benchmarks.spec import BenchmarkSpec
from harness.results import MetricValue


def row(spec: BenchmarkSpec, metric: str, value: float, stderr: float | None, n: int | None, primary: bool,
         task: str | None = None, judge: dict[str, Any] | None = None) -> MetricValue:  # fmt: skip
    return MetricValue(
        spec.name, task or spec.task, metric, value, stderr, n, primary, {"judge": judge or {}}
    )


def tenth(value: float | None) -> float | None:
    return None if value is None else value / 10


def repeat_summary(repeats: int, spread: float | None, unit: str) -> dict[str, Any]:
    """How many times each item was graded and, with more than one, how much the repeats moved."""
    if repeats <= 1:
        return {"repeats": 1}
    from evaluators.judge.repeats import REPEAT_TEMPERATURE

    return {
        "repeats": repeats,
        "repeat_temperature": REPEAT_TEMPERATURE,
        "aggregate": "median of the repeats",
        "spread": spread,
        "spread_measure": f"mean absolute deviation from the median, {unit}, averaged over items",
    }
