"""harness/generation_scoring.py on hand-made lm-eval results (no model): scores land where
lm-eval's own would, per-sample scores on each sample, and a model that cannot load fails the
job for good instead of being retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.spec import BenchmarkSpec, MetricSpec
from benchmarks.target import PermanentRunError
from harness.generation_scoring import SCORED_BY, score_commands, score_generations

TASK = "evalboard_gen_test"


def spec(*metrics: MetricSpec) -> BenchmarkSpec:
    return BenchmarkSpec(
        name="gen_test", task=TASK, display_en="t", display_ko="t", num_fewshot=0, primary_metric="rougeL",
        language="ko", random_baseline=0.0, version="1.0", request_type="generate", metrics=metrics,
    )  # fmt: skip


def results() -> dict[str, Any]:
    pairs = [  # (target, raw generation): lm-eval logs the generation unstripped
        ("서울은 한국의 수도이다.", "  서울은 대한민국의 수도입니다.\n"),
        ("고양이가 매트 위에 앉았다.", "고양이가 매트에 앉아 있다."),
    ]
    samples = [
        {"doc_id": i, "target": target, "filtered_resps": [generation], "metrics": ["response_chars"],
         "response_chars": float(len(generation.strip()))}
        for i, (target, generation) in enumerate(pairs)
    ]  # fmt: skip
    return {"results": {TASK: {"response_chars,none": 15.5}}, "samples": {TASK: samples}}


def test_scores_are_written_like_lm_eval_metrics_and_onto_each_sample() -> None:
    data = results()
    produced = score_generations(spec(MetricSpec("rouge", "ko"), MetricSpec("bleu", "ko")), TASK, data)
    row = data["results"][TASK]
    assert row["rougeL,none"] == pytest.approx((5 / 7 + 6 / 8) / 2)  # the hand-counted pairs
    assert row["rougeL_stderr,none"] > 0 and row["bleu_stderr,none"] > 0
    assert data["higher_is_better"][TASK]["bleu"] is True
    first = data["samples"][TASK][0]
    assert first["rougeL"] == pytest.approx(5 / 7) and first["scored_by"] == SCORED_BY
    assert first["metrics"][:2] == ["rouge1", "rouge2"] and first["metrics"][-1] == "response_chars"
    assert [p["evaluator"] for p in produced] == ["rouge", "bleu"]
    assert produced[1]["params"]["tokenize"] == "ko-mecab"
    line = score_commands(spec(MetricSpec("rouge", "ko"), MetricSpec("bleu", "ko")), TASK, produced)
    assert line.startswith(" --log_samples --output_path evalboard-reproduce && evalboard score ")
    assert f"--samples evalboard-reproduce/*/samples_{TASK}_*.jsonl --metric bleu --lang ko" in line


def test_a_model_that_cannot_load_fails_for_good(tmp_path: Path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    with pytest.raises(PermanentRunError, match="gen_test: bertscore: cannot load the BERTScore model"):
        score_generations(spec(MetricSpec("bertscore", "ko")), TASK, results(), {"bertscore": {
            "model": str(empty), "num_layers": 2}})  # fmt: skip


def test_a_bad_evaluator_option_fails_for_good() -> None:
    with pytest.raises(PermanentRunError, match="gen_test: bleu: unknown BLEU tokenizer"):
        score_generations(spec(MetricSpec("bleu", "ko", {"tokenize": "nope"})), TASK, results())


def test_the_sample_browser_shows_graded_scores_never_right_or_wrong() -> None:
    from app.runs.sample_view import describe

    data = results()
    data["samples"][TASK][1]["target"] = data["samples"][TASK][1]["filtered_resps"][0]  # a perfect 1.0
    score_generations(spec(MetricSpec("rouge", "ko")), TASK, data)
    view = describe({"benchmark": "gen_test", **data["samples"][TASK][1]})
    assert view.metrics["rouge1"] == "1" and view.correct is None
    assert view.response == "고양이가 매트에 앉아 있다." and "rougeL" in view.metrics


def test_worker_settings_reach_the_scoring(tmp_path: Path) -> None:
    import inspect

    from app.worker.run_settings import harness_arguments
    from harness.runner import run_suite
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, "sqlite://", bertscore_model="bundled:all-minilm-l6-v2")
    arguments = harness_arguments(settings.harness_kwargs)
    assert arguments["metric_options"] == {
        "bertscore": {"model": "bundled:all-minilm-l6-v2"},
        "geval": {"enabled": True},  # EVALBOARD_JUDGE_GEVAL
    }
    off = make_settings(tmp_path, "sqlite://", judge_geval=False)
    assert harness_arguments(off.harness_kwargs)["metric_options"]["geval"] == {"enabled": False}
    assert "metric_options" in inspect.signature(run_suite).parameters
