"""Open LLM v2 normalization against hand-computed values, and metric rows for groups."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from benchmarks.spec import GROUP, NORMALIZED_MEAN, NORMALIZED_METRIC
from benchmarks.suites.open_llm import OPEN_LLM_V2
from harness.normalize import SubtaskScore, normalize, normalized_mean
from harness.results import chance_level, metric_rows


def test_normalize_maps_chance_to_zero_and_perfect_to_one() -> None:
    assert normalize(0.25, 0.25) == 0.0
    assert normalize(1.0, 0.25) == 1.0
    assert normalize(0.5, 0.25) == pytest.approx(1 / 3)  # (0.5 - 0.25) / 0.75
    assert normalize(0.6, 0.5) == pytest.approx(0.2)  # (0.6 - 0.5) / 0.5
    assert normalize(0.7, 0.0) == pytest.approx(0.7)  # generation: raw score
    assert normalize(0.1, 0.25) == 0.0  # below chance is clipped, never negative
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        normalize(0.5, 1.0)


def test_normalized_mean_is_unweighted_over_subtasks_with_scaled_stderr() -> None:
    parts = [
        SubtaskScore("a", 0.5, 0.03, 0.25),  # -> 1/3, stderr 0.03 / 0.75 = 0.04
        SubtaskScore("b", 0.6, 0.05, 0.5),  # -> 0.2, stderr 0.05 / 0.5 = 0.1
        SubtaskScore("c", 0.1, 0.04, 0.25),  # -> 0 (clipped), no stderr left
    ]
    value, stderr = normalized_mean(parts)
    assert value == pytest.approx((1 / 3 + 0.2 + 0.0) / 3)  # 0.177777...
    assert stderr == pytest.approx(math.sqrt(0.04**2 + 0.1**2) / 3)  # 0.035901...
    assert normalized_mean([SubtaskScore("a", 0.5, None, 0.25)])[1] is None


def _mc_samples(choices: int, count: int = 3) -> list[dict]:  # type: ignore[type-arg]
    return [{"arguments": {f"gen_args_{i}": {} for i in range(choices)}} for _ in range(count)]


def test_a_normalized_group_stores_raw_rows_and_normalized_rows_per_subtask() -> None:
    spec = replace(OPEN_LLM_V2.benchmark("bbh"), task="bbh_g")
    results = {
        "results": {
            "bbh_g": {"acc_norm,none": 0.5, "acc_norm_stderr,none": 0.05},
            "bbh_g_two": {"acc_norm,none": 0.75, "acc_norm_stderr,none": 0.1},
            "bbh_g_four": {"acc_norm,none": 0.25, "acc_norm_stderr,none": 0.1},
        },
        "group_subtasks": {"bbh_g": ["bbh_g_two", "bbh_g_four"]},
        "configs": {t: {"output_type": "multiple_choice"} for t in ("bbh_g_two", "bbh_g_four")},
        "n-samples": {"bbh_g_two": {"effective": 4}, "bbh_g_four": {"effective": 6}},
    }
    samples = {"bbh_g_two": _mc_samples(2), "bbh_g_four": _mc_samples(4)}
    rows = metric_rows(spec, "bbh_g", results, samples, {"p": 1})
    by_key = {(r.task, r.metric): r for r in rows}
    # Raw lm-eval numbers are all kept, none of them primary in a normalized suite.
    assert by_key[("bbh_g", "acc_norm")].value == 0.5 and not by_key[("bbh_g", "acc_norm")].is_primary
    assert by_key[("bbh_g", "acc_norm")].n == 10  # the group's count is its subtasks' sum
    # Two-way subtask: (0.75 - 0.5) / 0.5 = 0.5. Four-way subtask at chance: 0.
    assert by_key[("bbh_g_two", NORMALIZED_METRIC)].value == pytest.approx(0.5)
    assert by_key[("bbh_g_two", NORMALIZED_METRIC)].provenance["random_baseline"] == 0.5
    assert by_key[("bbh_g_four", NORMALIZED_METRIC)].value == 0.0
    benchmark = by_key[("bbh_g", NORMALIZED_METRIC)]
    assert benchmark.is_primary and benchmark.value == pytest.approx(0.25)  # unweighted mean
    assert [r for r in rows if r.is_primary] == [benchmark]


def test_ifeval_normalizes_the_mean_of_prompt_and_instruction_accuracy() -> None:
    spec = OPEN_LLM_V2.benchmark("ifeval")
    task = "leaderboard_ifeval"
    results = {
        "results": {task: {"prompt_level_strict_acc,none": 0.4, "inst_level_strict_acc,none": 0.6}},
        "configs": {task: {"output_type": "generate_until"}},
    }
    rows = {r.metric: r for r in metric_rows(spec, task, results, {}, {})}
    assert rows[NORMALIZED_METRIC].value == pytest.approx(0.5) and rows[NORMALIZED_METRIC].is_primary
    assert not rows["prompt_level_strict_acc"].is_primary


def test_subtask_chance_levels_come_from_choice_counts_unless_the_spec_fixes_them() -> None:
    musr = OPEN_LLM_V2.benchmark("musr")
    mc = {"configs": {t: {"output_type": "multiple_choice"} for t in ("x_object_placements", "y")}}
    assert chance_level(musr, "x_object_placements", mc, _mc_samples(3)) == pytest.approx(1 / 5)
    assert chance_level(musr, "y", mc, _mc_samples(3)) == pytest.approx(1 / 3)
    gen = {"configs": {"y": {"output_type": "generate_until"}}}
    assert chance_level(musr, "y", gen, _mc_samples(3)) == 0.0


def test_a_plain_group_marks_its_own_row_primary_not_its_subtasks() -> None:
    from benchmarks.suites.kobench import KOBENCH_SUITE

    spec = KOBENCH_SUITE.benchmark("haerae")
    assert spec.aggregation == GROUP and spec.aggregation != NORMALIZED_MEAN
    results = {
        "results": {
            "g": {"acc_norm,none": 0.3},
            "g_a": {"acc_norm,none": 0.2},
            "g_b": {"acc_norm,none": 0.4},
        },
        "group_subtasks": {"g": ["g_a", "g_b"]},
    }
    rows = metric_rows(spec, "g", results, {}, {})
    assert [(r.task, r.metric) for r in rows if r.is_primary] == [("g", "acc_norm")]
    assert {r.task for r in rows} == {"g", "g_a", "g_b"}
