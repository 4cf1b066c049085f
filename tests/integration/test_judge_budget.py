"""The judge client's budget while judging, and repeated grading, with the real openai client over
real HTTP against the scripted judge on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from evaluators.judge.cache import MemoryCache
from evaluators.judge.client import JudgeBudgetExceeded, JudgeClient, JudgeEndpoint, JudgeRequest
from evaluators.judge.repeats import REPEAT_TEMPERATURE
from evaluators.judge.single import Question, run_single
from tests.support.judge_server import JudgeScript, Step, serve_judge


def test_judging_stops_when_the_recorded_cost_reaches_the_budget() -> None:
    """Each scripted reply reports 50 prompt tokens: $0.50 at $10,000 per million. With a $1.20
    budget the third reply passes it, and no fourth call is made; the paid replies are cached."""
    script = JudgeScript(default=Step(text="[[7]]"))
    requests = [JudgeRequest([{"role": "user", "content": f"답변 {i}"}], "single-ko@1") for i in range(6)]
    cache = MemoryCache()
    with serve_judge(script) as url:
        endpoint = JudgeEndpoint(url, "judge-m", concurrency=1, price_input_per_mtok=10_000.0,
                                 price_output_per_mtok=0.0)  # fmt: skip
        client = JudgeClient(endpoint, cache, budget_usd=1.2)
        with pytest.raises(JudgeBudgetExceeded) as stopped:
            client.judge(requests)
    assert len(script.received) == 3 and client.stats.calls == 3
    assert stopped.value.spent_usd == pytest.approx(1.5) and stopped.value.budget_usd == 1.2
    assert "reached the budget $1.2000" in str(stopped.value)
    assert len(cache.rows) == 3  # what was paid for is kept: a re-run does not pay for it again


def test_each_turn_is_graded_n_times_sampled_and_scored_by_the_median() -> None:
    ratings = {0: "[[6]]", 1: "[[8]]", 2: "[[9]]"}  # by the repeat's seed

    def by_seed(body: dict[str, object]) -> Step:
        return Step(text=f"근거를 씁니다. 점수: {ratings[int(str(body['seed']))]}")

    script = JudgeScript(responder=by_seed)
    question = Question("1", "writing", ("봄에 대한 짧은 시를 써 주세요.", "제목을 붙여 주세요."))
    answers = [["봄바람이 분다", "봄의 노래"]]
    cache = MemoryCache()
    with serve_judge(script) as url:
        client = JudgeClient(JudgeEndpoint(url, "judge-m", backoff_s=0.01), cache)
        result = run_single(client, "ko", [question], answers, repeats=3)
        again = run_single(
            JudgeClient(JudgeEndpoint(url, "judge-m"), cache), "ko", [question], answers, repeats=3
        )
    assert len(script.received) == 6  # 2 turns x 3 repeats; the second run came from the cache
    assert {body["temperature"] for body in script.received} == {REPEAT_TEMPERATURE}
    first_turn = result.grades[0][0]
    assert first_turn.rating == 8.0 and first_turn.repeat_ratings == [6.0, 8.0, 9.0]
    assert first_turn.spread == pytest.approx(1.0)  # (|6-8| + 0 + |9-8|) / 3
    assert result.repeats == 3 and result.spread() == pytest.approx(1.0)
    assert result.corpus() is not None and result.corpus().value == 8.0  # type: ignore[union-attr]
    assert first_turn.as_dict()["repeat_ratings"] == [6.0, 8.0, 9.0]
    assert [g.rating for g in again.grades[0]] == [8.0, 8.0]


def test_the_budget_and_repeats_reach_the_job_and_a_budget_needs_prices(
    tmp_path: Path, sqlite_url: str
) -> None:
    from app.worker.run_settings import harness_arguments
    from tests.conftest import make_settings

    priced = make_settings(
        tmp_path, sqlite_url, judge_base_url="http://127.0.0.1:9/v1", judge_model="m", judge_budget_usd=2.5,
        judge_repeats=3, judge_price_input_per_mtok=1.0, judge_price_output_per_mtok=4.0,
    )  # fmt: skip
    setup = harness_arguments(json.loads(json.dumps(priced.harness_kwargs)))["judge"]
    assert (setup.budget_usd, setup.repeats) == (2.5, 3)
    assert (
        harness_arguments(json.loads(json.dumps(make_settings(tmp_path, sqlite_url).harness_kwargs)))[
            "judge"
        ].repeats
        == 1
    )
    with pytest.raises(ValidationError, match="EVALBOARD_JUDGE_BUDGET_USD needs EVALBOARD_JUDGE_PRICE_INPUT"):
        make_settings(tmp_path, sqlite_url, judge_base_url="http://127.0.0.1:9/v1", judge_model="m",
                      judge_budget_usd=2.5)  # fmt: skip
