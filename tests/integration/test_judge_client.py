"""The judge client with the real openai client over real HTTP against a scripted judge on
loopback: retries on 429 / 500 / timeouts, counted failures, configuration errors, usage and cost,
and the response cache in a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest

from app.judging.cache_store import DatabaseJudgeCache
from evaluators.judge.client import JudgeClient, JudgeConfigError, JudgeEndpoint, JudgeRequest
from tests.support.judge_server import JudgeScript, Step, serve_judge

QUESTION = [{"role": "user", "content": "이 답변을 1-10으로 평가하세요. [[점수]] 형식으로."}]


def endpoint(base_url: str, **overrides: object) -> JudgeEndpoint:
    values: dict[str, object] = {"base_url": base_url, "model": "judge-model", "backoff_s": 0.01,
                                 "max_retries": 3, "timeout_s": 2.0}  # fmt: skip
    values.update(overrides)
    return JudgeEndpoint(**values)  # type: ignore[arg-type]


def requests(count: int, version: str = "single-ko@1") -> list[JudgeRequest]:
    return [
        JudgeRequest([*QUESTION, {"role": "user", "content": f"답변 {i}"}], version, {"temperature": 0})
        for i in range(count)
    ]


def test_429_500_timeout_and_garbage_are_retried_and_the_run_completes() -> None:
    script = JudgeScript(
        steps=[
            Step(status=429, headers={"retry-after": "0.05"}),
            Step(status=500),
            Step(delay_s=3.0),  # longer than the client's 2 s timeout
            Step(garbage=True),
        ],
        default=Step(text="[[7]]"),
    )
    with serve_judge(script) as url:
        client = JudgeClient(endpoint(url, concurrency=1))
        replies = client.judge(requests(3))
    assert [reply.texts for reply in replies] == [["[[7]]"]] * 3
    assert client.stats.retries == 4 and client.stats.calls == 7 and client.stats.failed == 0
    assert sum(reply.attempts for reply in replies) == 7  # each failure cost its request one attempt
    assert client.stats.prompt_tokens == 150 and client.stats.completion_tokens == 15


def test_retries_exhausted_are_counted_not_raised() -> None:
    script = JudgeScript(steps=[Step(status=503)] * 4, default=Step(text="[[3]]"))
    with serve_judge(script) as url:
        client = JudgeClient(endpoint(url, concurrency=1, max_retries=3))
        failed = client.judge(requests(1))[0]
        later = client.judge(requests(2)[1:])[0]
    assert not failed.ok and failed.attempts == 4 and "InternalServerError" in (failed.error or "")
    assert later.texts == ["[[3]]"]
    assert client.stats.failed == 1 and client.stats.calls == 5 and client.stats.requests == 2


def test_a_refused_request_stops_the_run_with_the_endpoints_message() -> None:
    script = JudgeScript(default=Step(status=401))
    with serve_judge(script) as url, pytest.raises(JudgeConfigError, match=r"refused the request \(401\)"):
        JudgeClient(endpoint(url)).judge(requests(1))
    assert len(script.received) == 1  # not retried


def test_concurrency_is_limited_and_used() -> None:
    script = JudgeScript(default=Step(delay_s=0.2))
    with serve_judge(script) as url:
        started = time.monotonic()
        JudgeClient(endpoint(url, concurrency=4)).judge(requests(8))
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 1.2  # two waves of four, not eight one after another (1.6 s)


def test_cost_is_recorded_where_prices_are_configured() -> None:
    with serve_judge(JudgeScript()) as url:
        client = JudgeClient(endpoint(url, price_input_per_mtok=2.0, price_output_per_mtok=8.0))
        client.judge(requests(4))
    assert client.stats.cost_usd == pytest.approx((200 * 2.0 + 20 * 8.0) / 1e6)


def test_database_cache_makes_a_rerun_free(database_url: str) -> None:
    script = JudgeScript(default=Step(text="[[9]]", top_logprobs=[{"9": -0.1, "8": -2.4}]))
    batch = [JudgeRequest(r.messages, r.prompt_version, {"logprobs": True, "top_logprobs": 2})
             for r in requests(5)]  # fmt: skip
    with serve_judge(script) as url:
        first = JudgeClient(endpoint(url), DatabaseJudgeCache(database_url))
        replies = first.judge([*batch, batch[0]])  # the same request twice in a batch is asked once
        assert len(script.received) == 5 and first.stats.cache_hits == 0
        again = JudgeClient(endpoint(url), DatabaseJudgeCache(database_url))
        cached = again.judge(batch)
        assert len(script.received) == 5  # no call at all
        assert again.stats.cache_hits == 5 and again.stats.calls == 0
        assert [r.texts for r in cached] == [r.texts for r in replies[:5]]
        assert cached[0].top_logprobs == [{"9": -0.1, "8": -2.4}] and cached[0].cached
        # Another prompt version or judge model is another key: asked again.
        JudgeClient(endpoint(url), DatabaseJudgeCache(database_url)).judge(requests(1, "single-ko@2"))
        JudgeClient(endpoint(url, model="other-judge"), DatabaseJudgeCache(database_url)).judge(batch[:1])
        assert len(script.received) == 7


def test_the_judge_comes_from_server_settings_only(tmp_path: object, sqlite_url: str) -> None:
    from pathlib import Path

    from tests.conftest import make_settings

    home = Path(str(tmp_path))
    assert make_settings(home, sqlite_url).judge_endpoint() is None  # no judge configured
    settings = make_settings(
        home, sqlite_url, judge_base_url="http://127.0.0.1:9/v1", judge_model="m", judge_api_key="secret",
        judge_concurrency=3, judge_price_input_per_mtok=1.0, judge_price_output_per_mtok=2.0,
    )  # fmt: skip
    judge = settings.judge_endpoint()
    assert (judge.base_url, judge.model, judge.api_key, judge.concurrency) == (
        "http://127.0.0.1:9/v1",
        "m",
        "secret",
        3,
    )
    assert judge.cost(1_000_000, 500_000) == pytest.approx(2.0)


def test_the_job_child_gets_the_judge_and_its_database_cache(tmp_path: object, database_url: str) -> None:
    """Settings.harness_kwargs crosses to the job child as JSON; harness_arguments turns its judge
    part into a JudgeSetup whose cache is the service database and whose endpoint is the setting's."""
    import json
    from pathlib import Path

    from app.judging.cache_store import DatabaseJudgeCache
    from app.worker.run_settings import harness_arguments
    from harness.judged import JudgeSetup
    from tests.conftest import make_settings

    home = Path(str(tmp_path))
    embedded = harness_arguments(json.loads(json.dumps(make_settings(home, database_url).harness_kwargs)))
    setup = embedded["judge"]
    assert isinstance(setup, JudgeSetup) and setup.endpoint is None  # the bundled judge, locally
    assert setup.local_model == "bundled:smollm2-135m-instruct" and setup.penalize_non_korean
    assert isinstance(setup.cache, DatabaseJudgeCache) and setup.cache.database_url == database_url

    settings = make_settings(
        home, database_url, judge_base_url="http://127.0.0.1:9/v1", judge_model="m", judge_api_key="secret",
        judge_korean_penalty=False, judge_max_tokens=100,
    )  # fmt: skip
    configured = harness_arguments(json.loads(json.dumps(settings.harness_kwargs)))["judge"]
    assert (configured.endpoint.base_url, configured.endpoint.api_key, configured.endpoint.max_tokens) == (
        "http://127.0.0.1:9/v1",
        "secret",
        100,
    )
    assert configured.penalize_non_korean is False
