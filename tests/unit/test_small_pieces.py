"""Pure functions: backoff, log tails, error messages, metric extraction, reproduce commands."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.errors import describe_validation_errors
from app.queue.jobs import backoff
from app.worker.files import log_tail
from benchmarks.catalog import SMOKE, TASKS_DIR
from harness.reproduce import reproduce_command
from harness.results import metric_rows
from harness.runner import config_hash


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff(1, 10) == timedelta(seconds=10)
    assert backoff(2, 10) == timedelta(seconds=20)
    assert backoff(3, 10) == timedelta(seconds=40)
    assert backoff(30, 10) == timedelta(hours=1)


def test_log_tail_collapses_progress_bars_and_keeps_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    log.write_text("one\ntwo\nbar 10%\rbar 50%\rbar 100%\n\nthree\n")
    assert log_tail(log, 3) == "two\nbar 100%\nthree"
    assert log_tail(tmp_path / "missing.log", 3) == ""


def test_validation_errors_read_as_sentences() -> None:
    errors = [
        {"loc": ("body", "precision"), "msg": "Input should be 'float32' or 'float16'"},
        {"loc": ("body",), "msg": "Value error, weight_type 'adapter' needs base_model"},
    ]
    assert describe_validation_errors(errors) == (
        "precision: Input should be 'float32' or 'float16'; request: weight_type 'adapter' needs base_model"
    )


def test_metrics_are_read_from_lm_eval_keys() -> None:
    spec = SMOKE.benchmark("mmlu_en_mini")
    task_results = {
        "alias": "x",
        "acc,none": 0.5,
        "acc_stderr,none": 0.1,
        "acc_norm,none": 0.25,
        "acc_norm_stderr,none": "N/A",
    }
    results = {"results": {spec.task: task_results}, "n-samples": {spec.task: {"effective": 24}}}
    metrics = {m.metric: m for m in metric_rows(spec, spec.task, results, {}, {"p": 1})}
    assert set(metrics) == {"acc", "acc_norm"}
    assert metrics["acc"].is_primary and not metrics["acc_norm"].is_primary
    assert metrics["acc"].stderr == pytest.approx(0.1)
    assert metrics["acc_norm"].stderr is None
    assert metrics["acc"].n == 24


def test_missing_primary_metric_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no 'acc' metric"):
        spec = SMOKE.benchmark("mmlu_en_mini")
        metric_rows(spec, spec.task, {"results": {spec.task: {"f1,none": 0.3}}}, {}, {})


def test_reproduce_command_names_tasks_shots_seeds_and_chat_template() -> None:
    args = {"pretrained": "/m", "dtype": "float32", "device": "cpu", "batch_size": 8}
    tasks = [spec.task for spec in SMOKE.benchmarks[:2]]
    command = reproduce_command(tasks, 0, args, True, include_paths=[TASKS_DIR], limit=5)
    assert command.startswith(
        f"lm_eval --model hf --model_args pretrained=/m,dtype=float32 --include_path {TASKS_DIR} "
    )
    assert "--tasks evalboard_smoke_mmlu_en,evalboard_smoke_kmmlu_ko --num_fewshot 0" in command
    assert "--batch_size 8 --device cpu --limit 5 --seed 0,1234,1234,1234" in command
    assert command.endswith("--apply_chat_template --fewshot_as_multiturn")
    without = reproduce_command(tasks[:1], 0, args, False, include_paths=[TASKS_DIR])
    assert "--apply_chat_template" not in without and "--limit" not in without


def test_config_hash_is_order_independent() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_bar_watcher_reports_lm_eval_progress_bars_and_passes_text_through() -> None:
    import io

    from harness.progress import BarWatcher

    seen: list[tuple[str, float]] = []
    sink = io.StringIO()
    watcher = BarWatcher(sink, lambda kind, fraction: seen.append((kind, fraction)))
    text = (
        "Running loglikelihood requests:   0%|  | 0/96\rRunning loglikelihood requests:  50%|#  | 48/96"
        "\rRunning loglikelihood requests:  50%|#  | 48/96\nRunning generate_until requests: 100%|##| 24/24\n"
    )
    watcher.write(text)
    assert sink.getvalue() == text
    assert seen == [("loglikelihood", 0.0), ("loglikelihood", 0.5), ("generate_until", 1.0)]


def test_benchmarks_sharing_a_fewshot_count_run_together_in_catalog_order() -> None:
    from dataclasses import replace

    from harness.runner import PlannedBenchmark, call_groups

    a, b, c = SMOKE.benchmarks
    planned = [PlannedBenchmark(s, s.task, "bundled", "hf") for s in (a, replace(b, num_fewshot=5), c)]
    groups = call_groups(planned)
    assert [[item.spec.name for item in g.benchmarks] for g in groups] == [[a.name, c.name], [b.name]]


def test_smoke_suite_needs_only_our_own_tasks() -> None:
    from benchmarks.catalog import local_task_names, needs_builtin_tasks

    assert {spec.task for spec in SMOKE.benchmarks} <= local_task_names()
    assert not needs_builtin_tasks(spec.task for spec in SMOKE.benchmarks)
    assert not needs_builtin_tasks(["evalboard_bundled_arc_challenge", "evalboard_bundled_mmlu"])
    assert needs_builtin_tasks([SMOKE.benchmarks[0].task, "arc_easy"])
