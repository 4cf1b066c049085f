"""G-Eval through the real openai client against the scripted judge: the score is sum p(s) * s of
the log-probabilities served; without them, the mean of n sampled scores; replies with no score
are counted, not guessed."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evaluators.judge.client import JudgeClient, JudgeEndpoint
from evaluators.judge.geval import CRITERIA, build_request, parse_score, prompts, run_geval
from tests.support.judge_server import JudgeScript, Step, serve_judge

ARTICLE = "시립도서관이 다음 달부터 평일 개방 시간을 밤 10시까지 늘린다."
SUMMARY = "도서관이 평일 밤 10시까지 문을 연다."


def client(url: str) -> JudgeClient:
    return JudgeClient(JudgeEndpoint(base_url=url, model="judge", backoff_s=0.01, timeout_s=5))


def test_score_is_the_probability_weighted_mean_of_the_logprobs_served() -> None:
    served = {"1": 0.1, "2": 0.1, "3": 0.2, "4": 0.4, "5": 0.2}
    script = JudgeScript(default=Step(text="4", top_logprobs=[{t: math.log(p) for t, p in served.items()}]))
    with serve_judge(script) as url:
        result = run_geval(client(url), "coherence", "ko", [ARTICLE], [SUMMARY])
    expected = sum(int(t) * p for t, p in served.items())  # 0.1 + 0.2 + 0.6 + 1.6 + 1.0 = 3.5
    assert result.scores[0].value == pytest.approx(expected) and result.scores[0].method == "logprobs"
    body = script.received[0]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["temperature"] == 0
    assert "평가 절차" in body["messages"][0]["content"] and ARTICLE in body["messages"][0]["content"]
    assert result.prompt_version == f"geval-coherence-ko@{prompts()['version']}"


def test_non_score_tokens_are_left_out_and_the_rest_renormalised() -> None:
    alternatives = {" ": math.log(0.5), "2": math.log(0.25), "3": math.log(0.25), "9": math.log(0.1)}
    script = JudgeScript(default=Step(text="3", top_logprobs=[alternatives]))
    with serve_judge(script) as url:
        result = run_geval(client(url), "fluency", "en", [ARTICLE], [SUMMARY])  # fluency allows 1-3
    assert result.scores[0].value == pytest.approx(2.5)  # 9 is not an allowed score


def test_without_logprobs_the_mean_of_n_samples_counts_unparseable_ones() -> None:
    script = JudgeScript(default=Step(texts=["4", "5점", "잘 모르겠습니다"]))
    with serve_judge(script) as url:
        result = run_geval(
            client(url), "relevance", "ko", [ARTICLE], [SUMMARY], use_logprobs=False, samples=3
        )
    score = result.scores[0]
    assert score.value == pytest.approx(4.5) and score.method == "samples"
    assert score.parsed_samples == 2 and score.unparseable_samples == 1
    assert script.received[0]["n"] == 3 and script.received[0]["temperature"] == 1.0


def test_a_reply_with_no_score_is_reported_and_left_out_of_the_mean() -> None:
    def reply(body: dict[str, Any]) -> Step:  # by content: concurrent requests arrive in any order
        answered = SUMMARY in body["messages"][0]["content"]
        return Step(text="The summary is fine.") if answered else Step(text="2")

    script = JudgeScript(responder=reply)
    with serve_judge(script) as url:
        judge = client(url)
        result = run_geval(
            judge, "consistency", "en", [ARTICLE] * 2, [SUMMARY, "x"], use_logprobs=False, samples=1
        )
    assert [s.method for s in result.scores] == ["unparseable", "samples"]
    assert result.unparseable == 1
    corpus = result.corpus()
    assert corpus is not None and corpus.value == 2.0


def test_every_criterion_has_both_languages_and_parsing_is_strict() -> None:
    for criterion in CRITERIA:
        for lang in ("ko", "en"):
            request = build_request(criterion, lang, "a", "b")
            assert criterion in request.messages[0]["content"] and "{" not in request.messages[0]["content"]
    assert parse_score("Score: 4/5", [1, 2, 3, 4, 5]) == 4
    assert parse_score("7", [1, 2, 3, 4, 5]) is None and parse_score("4.5", [1, 2, 3, 4, 5]) is None
