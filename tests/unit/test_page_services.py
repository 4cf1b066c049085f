"""The pure parts behind the model and compare pages: reading lm-eval sample records, the
significance rule and the parsing of compare's ids."""

from __future__ import annotations

import math

import pytest

from app.runs.compare import BadComparison, parse_ids, verdicts
from app.runs.sample_view import describe


def test_a_multiple_choice_sample_reads_as_prompt_chosen_answer_and_target() -> None:
    view = describe(
        {
            "benchmark": "arc_challenge",
            "doc_id": 7,
            "target": 2,
            "arguments": [["Q: sky?\nA:", " red"], ["Q: sky?\nA:", " green"], ["Q: sky?\nA:", " blue"]],
            "filtered_resps": [[-3.0, False], [-1.0, True], [-2.0, False]],
            "metrics": ["acc", "acc_norm"],
            "acc": 0.0,
            "acc_norm": 1.0,
        }
    )
    assert (view.prompt, view.response, view.target) == ("Q: sky?\nA:", " green", " blue")
    assert view.choices == [" red", " green", " blue"]
    assert view.metrics == {"acc": "0", "acc_norm": "1"} and view.correct is False


def test_a_judged_sample_shows_the_judges_rationale_and_is_not_right_or_wrong() -> None:
    """A pairwise item's outcome is 1.0 for a win: a graded score, not "correct"."""
    view = describe(
        {
            "benchmark": "ko_alpaca_eval",
            "doc_id": 3,
            "target": "reference answer",
            "arguments": [["<|im_start|>user\n설명해 주세요<|im_end|>", {"max_gen_toks": 512}]],
            "filtered_resps": ["model answer"],
            "metrics": ["outcome"],
            "outcome": 1.0,
            "scored_by": "evalboard-judge",
            "judge_rationale": "[model's answer as A] verdict A\nClearer.\n\n[model's answer as B] verdict B",
        }
    )
    assert view.correct is None and view.metrics == {"outcome": "1"}
    assert view.judge.startswith("[model's answer as A] verdict A") and view.response == "model answer"
    assert describe({"benchmark": "gsm8k", "filtered_resps": ["4"]}).judge == ""


def test_a_generation_sample_and_the_newer_argument_layout() -> None:
    view = describe(
        {
            "benchmark": "gsm8k",
            "doc_id": 0,
            "target": "#### 42",
            "arguments": {"gen_args_0": {"arg_0": "Question: 6 x 7?", "arg_1": {"until": ["\n\n"]}}},
            "filtered_resps": ["42"],
            "metrics": ["exact_match"],
            "exact_match": 1.0,
        }
    )
    assert (view.prompt, view.response, view.target, view.choices) == (
        "Question: 6 x 7?",
        "42",
        "#### 42",
        [],
    )
    assert view.correct is True


def test_a_sample_without_the_usual_fields_still_reads() -> None:
    view = describe({"benchmark": "x", "doc_id": 1, "ifeval_score": [True, False]})
    assert (view.prompt, view.response, view.target, view.correct) == ("", "", "", None)


def test_each_score_is_judged_against_the_best_by_the_combined_stderr() -> None:
    best, close, far, unknown, missing = verdicts(
        [(0.60, 0.01), (0.59, 0.01), (0.57, 0.01), (0.40, None), (None, None)]
    )
    assert best.verdict == "best"
    assert close.verdict == "within_error" and close.combined_stderr == pytest.approx(math.sqrt(2) * 0.01)
    assert far.verdict == "significant" and far.gap == pytest.approx(0.03)
    assert unknown.verdict == "unknown_error" and missing.verdict == "missing"
    tied = verdicts([(0.5, 0.01), (0.5, 0.02)])
    assert [cell.verdict for cell in tied] == ["best", "best"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1", "too_few"),
        ("1,1", "too_few"),
        ("1,2,3,4,5", "too_many"),
        ("1,²", "not_numbers"),
        ("1,-2", "not_numbers"),
    ],
)
def test_compare_ids_are_two_to_four_whole_numbers(text: str, code: str) -> None:
    with pytest.raises(BadComparison) as caught:
        parse_ids(text)
    assert caught.value.code == code and caught.value.status_code == 422


def test_compare_ids_allow_spaces_and_drop_repeats() -> None:
    assert parse_ids(" 3, 1 2,3 ") == [3, 1, 2]
