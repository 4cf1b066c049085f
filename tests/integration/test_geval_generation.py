"""G-Eval in a generation benchmark's scoring (harness/geval_scoring.py), through the real
judge client against the scripted judge over HTTP: four criteria per summary in one batch, scores
on 0..1 beside the lexical metrics with the judge and prompt versions recorded, the judge's
replies on each sample for the sample browser, the judge cache and budget honoured, and the whole
thing off on request."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.spec import BenchmarkSpec, MetricSpec
from benchmarks.target import PermanentRunError
from evaluators.judge.cache import MemoryCache
from evaluators.judge.client import JudgeEndpoint
from harness.generation_scoring import score_commands, score_generations
from harness.geval_scoring import GevalJudge
from harness.judged import JudgeSetup
from tests.support.judge_server import JudgeScript, Step, serve_judge

TASK = "evalboard_gen_test_summarization"
SPEC = BenchmarkSpec(
    name="sum_test", task=TASK, display_en="t", display_ko="t", num_fewshot=0, primary_metric="chrf",
    language="ko", random_baseline=0.0, version="1.0", request_type="generate",
    metrics=(MetricSpec("chrf", "ko"), MetricSpec("geval", "ko", {"source": "text"})),
)  # fmt: skip
ARTICLES = [
    "시립도서관이 평일 개방 시간을 밤 10시까지 늘린다.",
    "시가 전통시장 카드 단말기 설치 비용을 지원한다.",
]
# What the scripted judge "thinks" of every summary, per criterion: top log-probabilities or a reply
# with no score in it (relevance of the second summary).
LOGPROBS = {
    "coherence": {"4": 0.0},
    "consistency": {"5": 0.0},
    "fluency": {"3": math.log(0.5), "2": math.log(0.5)},
}


def results() -> dict[str, Any]:
    samples = [
        {"doc_id": i, "doc": {"title": "제목", "text": article, "summary": "요약"},
         "target": "도서관이 밤 10시까지 연다.", "filtered_resps": [" 도서관이 밤 10시까지 문을 연다.\n"],
         "metrics": ["response_chars"], "response_chars": 1.0}
        for i, article in enumerate(ARTICLES)
    ]  # fmt: skip
    return {"results": {TASK: {"response_chars,none": 1.0}}, "samples": {TASK: samples}}


def reply(body: dict[str, Any]) -> Step:
    content = body["messages"][0]["content"]
    criterion = re.findall(r"- (\w+):$", content)[-1]
    if criterion == "relevance":
        return (
            Step(text="3", top_logprobs=[{"3": 0.0}])
            if ARTICLES[0] in content
            else Step(text="잘 모르겠습니다")
        )
    return Step(text="x", top_logprobs=[LOGPROBS[criterion]])


@pytest.fixture
def judge_url() -> Iterator[tuple[str, JudgeScript]]:
    script = JudgeScript(responder=reply)
    with serve_judge(script) as url:
        yield url, script


def setup_for(url: str, **endpoint: Any) -> JudgeSetup:
    return JudgeSetup(
        endpoint=JudgeEndpoint(base_url=url, model="judge", backoff_s=0.01, timeout_s=5, **endpoint),
        cache=MemoryCache(),
    )


def test_geval_scores_land_beside_the_lexical_ones_with_the_judge_recorded(
    judge_url: tuple[str, JudgeScript], tmp_path: Path
) -> None:
    url, script = judge_url
    setup = setup_for(url)
    data = results()
    with GevalJudge(setup, tmp_path) as judge:
        produced = score_generations(SPEC, TASK, data, None, judge)
    assert len(script.received) == 2 * 4  # every criterion of every summary, once
    assert all(ARTICLES[0] in body["messages"][0]["content"] or ARTICLES[1] in body["messages"][0]["content"]
               for body in script.received)  # fmt: skip
    row = data["results"][TASK]
    assert row["geval_coherence,none"] == pytest.approx(0.75)  # 4 of 1-5
    assert row["geval_consistency,none"] == pytest.approx(1.0) and row["geval_fluency,none"] == pytest.approx(
        0.75
    )
    assert row["geval_relevance,none"] == pytest.approx(0.5) and row["geval_relevance_stderr,none"] == "N/A"
    assert row["geval,none"] == pytest.approx((0.75 + 1.0 + 0.75 + 0.5) / 4)  # only the fully scored summary
    assert row["chrf,none"] > 0 and data["higher_is_better"][TASK]["geval"] is True

    chrf, geval = produced
    assert (
        chrf["evaluator"] == "chrf" and geval["evaluator"] == "geval" and geval["params"]["source"] == "text"
    )
    record = geval["judge"]
    assert record["judge_model"] == "judge" and record["judge_endpoint"] == url
    assert record["prompt_versions"]["coherence"] == "geval-coherence-ko@1"
    assert record["raw_means"]["fluency"] == pytest.approx(2.5) and record["unparseable"]["relevance"] == 1
    assert (
        record["usage"]["requests"] == 8
        and record["usage"]["calls"] == 8
        and record["estimate"]["calls"] == 8
    )
    assert "--metric geval" not in score_commands(SPEC, TASK, produced)  # the reproduce line: evaluators only

    from app.runs.sample_view import describe

    second = data["samples"][TASK][1]
    assert second["geval_relevance"] is None and second["geval"] is None and second["geval_coherence"] == 0.75
    view = describe({"benchmark": "sum_test", **second})
    assert view.metrics["geval_coherence"] == "0.75" and view.correct is None
    assert "coherence 4.00 of 1-5 (log-probabilities" in view.judge
    assert "relevance no score (unparseable; reply '잘 모르겠습니다')" in view.judge

    again = results()  # the same summaries again: every reply from the judge cache
    with GevalJudge(setup, tmp_path) as judge:
        cached = score_generations(SPEC, TASK, again, None, judge)
    assert len(script.received) == 8 and cached[1]["judge"]["usage"]["cache_hits"] == 8
    assert again["results"][TASK]["geval,none"] == row["geval,none"]


def test_off_means_no_judge_at_all(judge_url: tuple[str, JudgeScript], tmp_path: Path) -> None:
    url, script = judge_url
    data = results()
    with GevalJudge(setup_for(url), tmp_path) as judge:
        produced = score_generations(SPEC, TASK, data, {"geval": {"enabled": False}}, judge)
        assert judge._client is None  # never opened: a local judge would not even load
    off = "G-Eval is off on this server (EVALBOARD_JUDGE_GEVAL=false)"
    assert produced[1] == {"evaluator": "geval", "version": "1.0", "lang": "ko", "skipped": off}
    assert script.received == [] and not any(k.startswith("geval") for k in data["results"][TASK])
    assert "judge_rationale" not in data["samples"][TASK][0]


def test_the_budget_is_checked_before_any_call(judge_url: tuple[str, JudgeScript], tmp_path: Path) -> None:
    url, script = judge_url
    setup = setup_for(url, price_input_per_mtok=10.0, price_output_per_mtok=30.0)
    setup.budget_usd = 0.0001
    with (
        GevalJudge(setup, tmp_path) as judge,
        pytest.raises(PermanentRunError, match="judge budget exceeded before judging"),
    ):
        score_generations(SPEC, TASK, results(), None, judge)
    assert script.received == []


def test_items_without_the_source_field_fail_for_good(
    judge_url: tuple[str, JudgeScript], tmp_path: Path
) -> None:
    url, _ = judge_url
    spec = BenchmarkSpec(**{**SPEC.__dict__, "metrics": (MetricSpec("geval", "ko", {"source": "document"}),)})
    with (
        GevalJudge(setup_for(url), tmp_path) as judge,
        pytest.raises(PermanentRunError, match="no 'document' field"),
    ):
        score_generations(spec, TASK, results(), None, judge)
