"""The judge's cost end to end: the bundled model answers the first 5 LogicKor-schema questions
(both turns, short answers), a scripted OpenAI-compatible judge on loopback grades each turn twice
(EVALBOARD_JUDGE_REPEATS=2) over real HTTP and reports usage by the documented token rule, at
real prices.

- The estimate made before the first judge call is within 10 % of the usage the judge reported
  (calls, tokens, cost). The scripted judge writes what the prompts ask for: two or three sentences
  and the rating line (the estimate's reply allowance assumes as much).
- A budget below the estimate fails the run before any judge call: the judge counts no request.
- A budget the estimate fits, with replies five times longer than estimated, stops during judging.
- A re-run the judge cache answers is estimated at no cost and passes any budget.
The answers come from the response cache after the first run, so only that one generates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.suites.logickor import LOGICKOR
from benchmarks.target import ModelTarget, PermanentRunError
from evaluators.judge.cache import MemoryCache
from evaluators.judge.client import JudgeEndpoint
from harness.judged import JudgeSetup
from harness.runner import SuiteOutcome, run_suite
from tests.conftest import SHARED_MODEL_CACHE
from tests.support.judge_server import JudgeScript, Step, serve_judge

pytestmark = pytest.mark.e2e
REPLY = (
    "답변은 질문의 요구를 대체로 따르고 있지만 핵심 근거가 부족하고 일부 설명이 모호합니다. "
    "특히 두 번째 문단은 질문과 직접 관련이 없는 내용을 반복하고 있어 전달력이 떨어집니다. "
    "정확성은 무난하지만 깊이가 아쉬워 중간 정도의 점수를 줍니다.\n점수: [[6]]"
)
ITEMS = 5
REPEATS = 2
CALLS = 2 * ITEMS * REPEATS  # two turns per question


def judge_setup(endpoint: JudgeEndpoint, cache: MemoryCache, budget_usd: float | None = None) -> JudgeSetup:
    return JudgeSetup(endpoint=endpoint, cache=cache, budget_usd=budget_usd, repeats=REPEATS)


def run(tmp_path: Path, name: str, setup: JudgeSetup) -> SuiteOutcome:
    target = ModelTarget(
        "bundled:smollm2-135m-instruct", "bundled", "bundled", None, "float32", use_chat_template=True
    )
    return run_suite(
        target, LOGICKOR, cache_dir=SHARED_MODEL_CACHE, output_dir=tmp_path / name, limit=ITEMS,
        max_gen_toks=16, data_source="bundled", datasets_dir=tmp_path / "datasets",
        response_cache_dir=tmp_path / "responses", judge=setup,
    )  # fmt: skip


def test_the_estimate_matches_the_usage_and_the_budget_is_kept(
    tmp_path: Path, converted_model_dir: Path
) -> None:
    script = JudgeScript(default=Step(text=REPLY), count_tokens=True)
    cache = MemoryCache()
    with serve_judge(script) as url:
        endpoint = JudgeEndpoint(url, "judge-m", price_input_per_mtok=2.5, price_output_per_mtok=10.0)
        first = run(tmp_path, "first", judge_setup(endpoint, cache))
        judge = first.primary()["ko_logickor"].provenance["judge"]
        usage, estimate = judge["usage"], judge["estimate"]
        assert usage["calls"] == len(script.received) == CALLS and usage["cache_hits"] == 0
        for key in ("calls", "prompt_tokens", "completion_tokens", "cost_usd"):
            assert abs(estimate[key] - usage[key]) <= 0.1 * usage[key], (key, estimate, usage)
        assert judge["request_estimate"] == estimate and judge["prompt_version"] == "single-ko@1"
        assert judge["repeats"] == REPEATS and judge["spread"] == 0.0  # the scripted judge never wavers
        assert {body["seed"] for body in script.received} == set(range(REPEATS))
        sent, limit = len(script.received), estimate["cost_usd"] / 2

        with pytest.raises(PermanentRunError) as refused:
            run(tmp_path, "refused", judge_setup(endpoint, MemoryCache(), limit))
        assert len(script.received) == sent  # not one judge request
        message = str(refused.value)
        assert "before judging" in message and "Nothing was sent to the judge" in message
        assert f"${estimate['cost_usd']:.4f}" in message and f"${limit:.4f}" in message

        script.default = Step(text=REPLY * 5)  # the judge writes far more than estimated
        fits = estimate["cost_usd"] * 1.05
        with pytest.raises(PermanentRunError) as stopped:
            run(tmp_path, "stopped", judge_setup(endpoint, MemoryCache(), fits))
        assert "while judging" in str(stopped.value) and f"${fits:.4f}" in str(stopped.value)
        assert sent < len(script.received) < sent + CALLS  # it stopped partway

        cached = run(tmp_path, "cached", judge_setup(endpoint, cache, 1e-9))
    rerun = cached.primary()["ko_logickor"].provenance["judge"]
    assert rerun["estimate"]["cost_usd"] == 0.0 and rerun["estimate"]["cache_hits"] == CALLS
    assert rerun["usage"]["calls"] == 0 and cached.model_calls == 0
    assert cached.primary()["ko_logickor"].value == first.primary()["ko_logickor"].value
