"""The judge cost estimate, repeats and the LogicKor-schema set, without a judge: the estimate reads
the requests the run would send (and the cache), so no call is needed to check it."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from benchmarks.bundled_data import bundle_dir, read_jsonl
from benchmarks.datasources import DataSourceError, plan_sources, read_pulled, record_pulled
from benchmarks.suites.logickor import KO_LOGICKOR, LOGICKOR
from evaluators.judge import pairwise, single
from evaluators.judge.cache import CachedReply, MemoryCache
from evaluators.judge.client import JudgeClient, JudgeEndpoint
from evaluators.judge.estimate import FOLLOW_UP_SHARE, message_tokens, text_tokens
from evaluators.judge.repeats import REPEAT_TEMPERATURE, median_and_spread
from evaluators.judge.single import Question
from harness.judged_data import load_items, saved_file

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CATEGORIES = (
    "추론(Reasoning)",
    "수학(Math)",
    "글쓰기(Writing)",
    "코딩(Coding)",
    "이해(Understanding)",
    "문법(Grammar)",
)


def client(cache: MemoryCache | None = None, **endpoint: object) -> JudgeClient:
    values: dict[str, object] = {"base_url": "http://127.0.0.1:9/v1", "model": "judge-m",
                                 "price_input_per_mtok": 2.0, "price_output_per_mtok": 8.0}  # fmt: skip
    values.update(endpoint)
    return JudgeClient(JudgeEndpoint(**values), cache)  # type: ignore[arg-type]


def test_the_token_rule_counts_ascii_by_four_and_every_other_character_as_one() -> None:
    assert text_tokens("abcd") == 1 and text_tokens("abcde") == 2
    assert text_tokens("점수") == 2 and text_tokens("점수: [[7]]") == 2 + 2  # ": [[7]]" is 7 ASCII chars
    assert (
        message_tokens([{"role": "user", "content": "abcd"}, {"role": "assistant", "content": ""}]) == 1 + 8
    )


def test_the_estimate_is_the_requests_the_run_sends_less_what_the_cache_holds() -> None:
    questions = [
        Question.from_record(r) for r in read_jsonl(bundle_dir("judge_ko_mt_bench") / "test.jsonl")[:3]
    ]
    answers = [["첫 답변", "두 번째 답변"]] * 3
    requests = single.plan_requests("ko", questions, answers)
    cache = MemoryCache()
    cache.put_many(
        [CachedReply(requests[0].key("judge-m"), "judge-m", "single-ko@1", {}, {"texts": ["[[5]]"]})]
    )
    judge = client(cache)
    estimate = single.estimate_calls(judge, "ko", questions, answers)
    first_pass = len(requests) - 1  # one is in the cache: free
    assert (estimate.requests, estimate.cache_hits) == (6, 1)
    assert estimate.follow_up_calls == math.floor(first_pass * FOLLOW_UP_SHARE + 0.5)
    assert estimate.calls == first_pass + estimate.follow_up_calls
    exact = sum(message_tokens(r.messages) for r in requests[1:])
    assert exact <= estimate.prompt_tokens <= exact * (1 + 2 * FOLLOW_UP_SHARE)
    assert estimate.completion_tokens >= first_pass * single.REPLY_TOKENS
    assert estimate.cost_usd == pytest.approx(
        (estimate.prompt_tokens * 2.0 + estimate.completion_tokens * 8.0) / 1e6
    )
    # The endpoint's reply cap bounds the reply allowance; no prices, no cost.
    capped = single.estimate_calls(client(max_tokens=16), "ko", questions, answers)
    assert capped.completion_tokens <= 16 * capped.calls
    unpriced = single.estimate_calls(client(price_input_per_mtok=None), "ko", questions, answers)
    assert unpriced.cost_usd is None and unpriced.calls == 6 + unpriced.follow_up_calls
    assert "judge calls" in estimate.describe() and "$" in estimate.describe()


def test_repeats_are_sampled_and_each_has_its_own_cache_key() -> None:
    question = Question("q1", "writing", ("첫 질문", "둘째 질문"))
    once = single.plan_requests("ko", [question], [["a", "b"]])
    assert [r.params for r in once] == [single.PARAMS] * 2  # one repeat: the greedy requests of before
    thrice = single.plan_requests("ko", [question], [["a", "b"]], repeats=3)
    assert len(thrice) == 6 and len({r.key("m") for r in thrice}) == 6
    assert {r.params["temperature"] for r in thrice} == {REPEAT_TEMPERATURE}
    assert [r.params["seed"] for r in thrice[:3]] == [0, 1, 2]
    paired = pairwise.plan_requests("ko", ["지시"], ["답"], ["참고"], repeats=2)
    assert len(paired) == 4 and len({r.key("m") for r in paired}) == 4
    assert median_and_spread([6.0, 8.0, 9.0]) == (8.0, 1.0)
    assert median_and_spread([None, 4.0]) == (4.0, 0.0) and median_and_spread([None]) == (None, None)


def test_the_bundled_logickor_set_is_in_logickors_schema() -> None:
    records = read_jsonl(bundle_dir("judge_ko_logickor") / "test.jsonl")
    assert len(records) == 24 and [r["id"] for r in records] == list(range(1, 25))
    assert {c: sum(r["category"] == c for r in records) for c in CATEGORIES} == dict.fromkeys(CATEGORIES, 4)
    for record in records:
        assert set(record) <= {"id", "category", "questions", "references"}
        assert len(record["questions"]) == 2 and all(HANGUL.search(q) for q in record["questions"])
        assert len(record.get("references") or [None, None]) == 2
    questions = [Question.from_record(r) for r in records]
    assert sum(q.reference_guided for q in questions) >= 12  # math, reasoning and more have answers
    git = next(q for q in questions if q.references and q.references[0] is None and q.references[1])
    turn2 = single.build_request("ko", git, ["merge는 ...", "해시가 바뀝니다"], 1).messages[0]["content"]
    assert "참고 답안이 없습니다" in turn2 and str(git.reference(1)) in turn2  # only turn 2 has a reference
    open_ended = next(q for q in questions if q.category == "글쓰기(Writing)")
    assert not open_ended.reference_guided
    assert "참고 답안" not in single.build_request("ko", open_ended, ["글", "글"], 1).messages[0]["content"]


def test_a_saved_public_set_is_what_runs_read(tmp_path: Path) -> None:
    """Lines as maywell/LogicKor publishes them (one with a repeated third question, one without
    references), written where `datasets pull` saves them: the plan says hub and the run reads them."""
    repeated = "남은 사과를 둘이 나누면?"
    published = [
        {
            "id": 1,
            "category": "추론(Reasoning)",
            "questions": ["철수는 사과 세 개 중 하나를 먹었다. 몇 개 남았나?", repeated, repeated],
            "references": ["두 개", "한 개씩"],
        },
        {"id": 2, "category": "글쓰기(Writing)", "questions": ["봄에 대한 시를 써 줘.", "제목을 붙여 줘."]},
        {
            "id": 3,
            "category": "문법(Grammar)",
            "questions": ["'됬다'를 바르게 고쳐 줘.", "이유는?"],
            "references": ["됐다", None],
        },
    ]
    datasets = tmp_path / "datasets"
    assert plan_sources(LOGICKOR, "auto", datasets_dir=datasets, hub_online=lambda: False) == {
        "ko_logickor": "bundled"
    }
    with pytest.raises(DataSourceError, match="datasets pull"):
        load_items(KO_LOGICKOR, "hub", datasets, None)  # not saved, and this machine has no hub
    path = saved_file(datasets, KO_LOGICKOR)
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in published), "utf-8")
    record_pulled(datasets, KO_LOGICKOR.task, [["maywell/LogicKor", None]])
    assert plan_sources(LOGICKOR, "auto", datasets_dir=datasets, hub_online=lambda: False) == {
        "ko_logickor": "hub"
    }
    assert KO_LOGICKOR.task in read_pulled(datasets)
    items = load_items(KO_LOGICKOR, "hub", datasets, 2)
    assert [i["id"] for i in items] == [1, 2]
    first = Question.from_record(items[0])
    assert first.turns == ("철수는 사과 세 개 중 하나를 먹었다. 몇 개 남았나?", repeated)  # two turns
    assert first.reference(1) == "한 개씩"
    assert Question.from_record(published[2]).reference(1) is None
    assert [i["id"] for i in load_items(KO_LOGICKOR, "bundled", datasets, 3)] == [1, 2, 3]  # the sample
    path.write_text(json.dumps({"id": 9, "category": "x"}) + "\n", "utf-8")  # not LogicKor's schema
    with pytest.raises(ValueError, match="line 1 is not in the benchmark's schema"):
        load_items(KO_LOGICKOR, "hub", datasets, None)
