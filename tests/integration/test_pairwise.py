"""AlpacaEval-style pairwise judging through the real openai client against a scripted judge that
decides from what it is shown: the both-orders rule, unjudged replies, the win rate and the
length-controlled win rate on a constructed case."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evaluators.judge.client import JudgeClient, JudgeEndpoint
from evaluators.judge.pairwise import length_controlled_win_rate, outcome, parse_verdict, run_pairwise
from tests.support.judge_server import JudgeScript, Step, serve_judge


def client(url: str) -> JudgeClient:
    return JudgeClient(JudgeEndpoint(base_url=url, model="judge", backoff_s=0.01, timeout_s=5))


def answers_in_order(body: dict[str, Any]) -> tuple[str, str, str]:
    """(instruction, answer A, answer B) from the prompt the judge was sent."""
    content = body["messages"][0]["content"]
    instruction = content.split("[Instruction]\n", 1)[1].split("\n\n", 1)[0]
    a = content.split("[Answer A]\n", 1)[1].split("\n\n", 1)[0]
    b = content.split("[Answer B]\n", 1)[1].split("\n\n", 1)[0]
    return instruction, a, b


def test_both_orders_rule_and_unjudged_items() -> None:
    def judge(body: dict[str, Any]) -> Step:
        instruction, a, _ = answers_in_order(body)
        if instruction == "prefers the model":
            return Step(text="Clearer. [[A]]" if a.startswith("model") else "Clearer. [[B]]")
        if instruction == "position bias":
            return Step(text="The first one. [[A]]")  # always A: wins in one order, loses in the other
        if instruction == "prefers the reference":
            return Step(text="[[B]]" if a.startswith("model") else "[[A]]")
        if instruction == "tie once":
            return Step(text="[[TIE]]" if a.startswith("model") else "[[B]]")
        return Step(text="I would rather not say.")  # no verdict

    names = ["prefers the model", "position bias", "prefers the reference", "tie once", "no verdict"]
    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_pairwise(
            client(url), "en", names, [f"model {n}" for n in names], [f"ref {n}" for n in names]
        )
    assert result.outcomes == [1.0, 0.5, 0.0, 0.5, None]
    assert result.unjudged == 1
    win_rate = result.win_rate()
    assert win_rate is not None and win_rate.value == pytest.approx(0.5)
    assert win_rate.stderr == pytest.approx(math.sqrt(((0.5**2) * 2 + 0 + 0) / 3 / 4))  # sample sd / sqrt(n)
    assert result.rationales[0] == ("Clearer. [[A]]", "Clearer. [[B]]")


def test_length_controlled_win_rate_on_a_constructed_case() -> None:
    """7 items where the model's answer is 20 characters longer (it wins 6), 3 where it is 20
    shorter (it wins 1): raw win rate 0.7. The logistic fit at zero length difference has the
    closed form sigmoid((logit(6/7) + logit(1/3)) / 2) = 0.634, since the two groups sit at
    +x and -x."""
    wins = {f"long {i}": i < 6 for i in range(7)} | {f"short {i}": i < 1 for i in range(3)}

    def judge(body: dict[str, Any]) -> Step:
        instruction, a, _ = answers_in_order(body)
        model_is_a = a.startswith("model")
        return Step(text="[[A]]" if wins[instruction] == model_is_a else "[[B]]")

    instructions = list(wins)
    outputs = [f"model {'x' * (30 if name.startswith('long') else 10)}" for name in instructions]
    references = [f"ref {'y' * (12 if name.startswith('long') else 32)}" for name in instructions]
    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_pairwise(client(url), "en", instructions, outputs, references)
    assert result.win_rate().value == pytest.approx(0.7)  # type: ignore[union-attr]
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    expected = 1 / (1 + math.exp(-(logit(6 / 7) + logit(1 / 3)) / 2))
    assert result.length_controlled() == pytest.approx(expected, abs=1e-4)
    assert expected == pytest.approx(0.634, abs=1e-3)


def test_helpers() -> None:
    assert parse_verdict("A is better... final: [[b]]") == "B" and parse_verdict("no verdict") is None
    assert outcome("A", "B") == 1.0 and outcome("B", "A") == 0.0 and outcome("A", "A") == 0.5
    assert outcome("TIE", "TIE") == 0.5 and outcome(None, "B") is None
    assert length_controlled_win_rate([1.0, 0.0, 0.5], [5, 5, 5]) == pytest.approx(0.5)  # no spread
    assert length_controlled_win_rate([1.0], [3]) is None


def test_replies_without_a_verdict_are_asked_again() -> None:
    """A judge that explains without a verdict is asked for the letter alone; the letter is read
    from the log-probabilities (the likelier of A and B) or from the text."""

    def judge(body: dict[str, Any]) -> Step:
        instruction, a, _ = answers_in_order(body)
        if len(body["messages"]) == 1:
            return Step(text="Both answers have merits.")
        assert body["messages"][1]["content"] == "Both answers have merits."
        if instruction == "logprobs":  # prefers the model's answer in both orders
            model_first = a.startswith("model")
            alternatives = {
                "A": math.log(0.7 if model_first else 0.2),
                "B": math.log(0.2 if model_first else 0.7),
            }
            return Step(text="A" if model_first else "B", top_logprobs=[alternatives])
        return Step(text="B" if a.startswith("model") else "a tie, I think")  # text only

    with serve_judge(JudgeScript(responder=judge)) as url:
        result = run_pairwise(
            client(url), "en", ["logprobs", "text"], ["model 1", "model 2"], ["ref 1", "ref 2"]
        )
    assert result.verdicts == [("A", "B"), ("B", None)]
    assert result.outcomes == [1.0, None]  # "a tie, I think" is not a verdict ("a" is a word)
    assert result.recovered == 3
    assert result.rationales[0] == ("Both answers have merits.", "Both answers have merits.")
