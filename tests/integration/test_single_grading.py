"""MT-Bench-style single grading through the real openai client against a scripted judge that
rates from what it is shown: two turns with the first as context, reference-guided forms for
math, the rating parse, the Korean penalty, and unparseable and failed replies counted."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evaluators.judge.client import JudgeClient, JudgeConfigError, JudgeEndpoint
from evaluators.judge.single import Question, hangul_share, not_korean, parse_rating, run_single
from tests.support.judge_server import JudgeScript, Step, serve_judge


def client(url: str) -> JudgeClient:
    return JudgeClient(JudgeEndpoint(base_url=url, model="judge", backoff_s=0.01, timeout_s=5, max_retries=1))


def section(content: str, title: str) -> str | None:
    marker = f"[{title}]\n"
    return content.split(marker, 1)[1].split("\n\n", 1)[0] if marker in content else None


WRITING = Question("1", "writing", ("Write a haiku about rain.", "Now make it about snow."))
MATH = Question("2", "math", ("What is 6 * 7?", "And 6 * 8?"), ("42", "48"))


def test_two_turns_reference_guided_and_ratings() -> None:
    seen: list[dict[str, str | None]] = []

    def judge(body: dict[str, Any]) -> Step:
        content = body["messages"][0]["content"]
        shown = {
            "question": section(content, "Question"),
            "first": section(content, "User, first message"),
            "second_answer": section(content, "Assistant, second answer"),
            "reference": section(content, "Reference answer")
            or section(content, "Reference answer to the second message"),
        }
        seen.append(shown)
        answer = section(content, "Assistant's answer") or shown["second_answer"] or ""
        if shown["reference"] is not None:  # correct iff the answer states the reference result
            return Step(
                text=f"Checked against the reference. Rating: [[{10 if shown['reference'] in answer else 2}]]"
            )
        return Step(text=f"Fine. Rating: [[{len(answer) % 10 + 1}]]")

    answers = [["Rain on the roof", "Snow on the roof!"], ["It is 42.", "It is 49."]]
    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_single(client(url), "en", [WRITING, MATH], answers)

    ratings = [[g.rating for g in turns] for turns in result.grades]
    assert ratings == [
        [float(len("Rain on the roof") % 10 + 1), float(len("Snow on the roof!") % 10 + 1)],
        [10.0, 2.0],
    ]
    # Turn 2 was shown the first exchange; math was shown its references, writing none.
    turn2 = [s for s in seen if s["first"] is not None]
    assert {s["first"] for s in turn2} == {"Write a haiku about rain.", "What is 6 * 7?"}
    assert sum(s["reference"] is not None for s in seen) == 2
    corpus = result.corpus()
    assert corpus is not None and corpus.value == pytest.approx(sum(sum(r) for r in ratings) / 4)
    assert result.corpus(turn=1) is not None
    assert result.by_category()["math"] == pytest.approx(6.0)
    assert result.grades[1][0].rationale.startswith("Checked against the reference")
    assert result.unparseable == 0 and result.failed == 0


def test_unparseable_and_failed_replies_are_counted_not_scored() -> None:
    def judge(body: dict[str, Any]) -> Step:  # turn 1 gets no rating, turn 2 a server error
        second_turn = "[User, first message]" in body["messages"][0]["content"]
        return Step(status=500) if second_turn else Step(text="I like it.")

    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_single(client(url), "en", [WRITING], [["a", "b"]])
    assert result.unparseable == 1 and result.failed == 1
    assert result.corpus() is None
    assert "failed" in result.grades[0][1].rationale


def test_replies_without_a_rating_are_asked_again() -> None:
    """The follow-up keeps the judge's reply in the conversation; its rating is read from the
    log-probabilities (sum p*s) when served, else from the text; where it came from is kept."""

    def judge(body: dict[str, Any]) -> Step:
        messages = body["messages"]
        if len(messages) == 1:
            return Step(text="A thoughtful poem.")  # no rating: asked again
        assert messages[1] == {"role": "assistant", "content": "A thoughtful poem."}
        assert "only your rating" in messages[2]["content"]
        if "[User, first message]" in messages[0]["content"]:
            return Step(text="7")  # no logprobs served: read from the text
        assert body["logprobs"] is True
        return Step(text="7", top_logprobs=[{"7": math.log(0.5), "8": math.log(0.25), "x": math.log(0.25)}])

    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_single(client(url), "en", [WRITING], [["a", "b"]])
    first, second = result.grades[0]
    assert (first.rating, first.source) == (pytest.approx((7 * 0.5 + 8 * 0.25) / 0.75), "follow-up logprobs")
    assert (second.rating, second.source) == (7.0, "follow-up text")
    assert first.rationale == "A thoughtful poem."
    assert result.recovered == 2 and result.unparseable == 0

    with serve_judge(JudgeScript(responder=judge)) as url:
        strict = run_single(client(url), "en", [WRITING], [["a", "b"]], ask_again=False)
    assert strict.unparseable == 2 and strict.recovered == 0


def test_a_refusing_endpoint_stops_the_run() -> None:
    with (
        serve_judge(JudgeScript(default=Step(status=400))) as url,
        pytest.raises(JudgeConfigError, match="400"),
    ):
        run_single(client(url), "en", [WRITING], [["a", "b"]])


def test_korean_penalty_on_korean_questions_only() -> None:
    question = Question(
        "3", "writing", ("비 오는 날에 대한 짧은 시를 써 주세요.", "이번에는 눈에 대해 써 주세요.")
    )
    with serve_judge(JudgeScript(default=Step(text="좋습니다. 점수: [[9]]"))) as url:
        answers = [["Rain falls softly.", "눈이 소리 없이 내린다."]]
        penalized = run_single(client(url), "ko", [question], answers, penalize_non_korean=True)
        english = run_single(client(url), "en", [WRITING], [["Rain falls softly.", "Snow."]],
                             penalize_non_korean=True)  # fmt: skip
        off = run_single(client(url), "ko", [question], [["Rain falls softly.", "Snow."]])
    first, second = penalized.grades[0]
    assert (first.rating, first.judge_rating, first.penalized) == (1.0, 9.0, True)
    assert (second.rating, second.penalized) == (9.0, False)
    assert penalized.penalized == 1
    assert english.penalized == 0 and english.ratings() == [9.0, 9.0]
    assert off.ratings() == [9.0, 9.0]


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("Solid answer.\nRating: [[7]]", 7.0),
        ("Rating: [[7.5]]", 7.5),
        ("first [[3]] then reconsidered [[6]]", 6.0),
        ("Rating: [8]", 8.0),
        ("점수: 4", 4.0),
        ("Rating: [[11]]", None),
        ("Rating: [[0]]", None),
        ("no rating here", None),
    ],
)
def test_parse_rating(text: str, rating: float | None) -> None:
    assert parse_rating(text) == rating


def test_hangul_share_leaves_code_out() -> None:
    assert hangul_share("42") is None
    assert not not_korean("다음 함수를 쓰면 됩니다.\n```python\ndef add(a, b):\n    return a + b\n```")
    assert not_korean("You can use this function: `add`.")
    assert not not_korean("파이썬의 list comprehension을 쓰면 됩니다")
