"""Evaluator edge cases a model's output produces in practice: empty answers, whitespace,
identical texts; and the registry's and bootstrap's contracts."""

from __future__ import annotations

import pytest

from evaluators import registry
from evaluators.base import EvaluatorInputError

PREDICTIONS = ["", "   ", "서울은 한국의 수도이다."]  # a model that answered nothing, twice
REFERENCES = ["서울은 수도다.", "고양이가 앉았다.", "서울은 한국의 수도이다."]


@pytest.mark.parametrize("metric", ["rouge", "bleu", "chrf", "bertscore"])
def test_empty_answers_score_zero_and_a_perfect_one_scores_one(metric: str) -> None:
    result = registry.create(metric, "ko").evaluate(PREDICTIONS, REFERENCES)
    primary = result.primary
    assert [sample[primary] for sample in result.samples[:2]] == [0.0, 0.0]
    assert result.samples[2][primary] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 <= result.corpus[primary].value <= 1.0


def test_bootstrap_stderr_is_deterministic() -> None:
    first = registry.create("bleu", "ko").evaluate(PREDICTIONS[2:] * 3, REFERENCES[2:] * 2 + REFERENCES[:1])
    again = registry.create("bleu", "ko").evaluate(PREDICTIONS[2:] * 3, REFERENCES[2:] * 2 + REFERENCES[:1])
    assert first.corpus["bleu"].stderr == again.corpus["bleu"].stderr is not None


def test_chrf_plus_plus_is_named_for_what_it_is() -> None:
    result = registry.create("chrf", "en", word_order=2).evaluate(["a cat"], ["a cat"])
    assert result.primary == "chrf++" and "nw:2" in result.params["signature"]
    assert result.params["variant"] == "chrF++"


def test_registry_names_and_errors() -> None:
    assert registry.names() == ["rouge", "bleu", "chrf", "bertscore"]
    with pytest.raises(EvaluatorInputError, match="unknown metric 'wer'"):
        registry.create("wer", "ko")
    with pytest.raises(EvaluatorInputError, match="unexpected keyword argument"):
        registry.create("rouge", "ko", colour="blue")
    with pytest.raises(EvaluatorInputError, match="no rescaling baseline"):
        registry.create("bertscore", "ko", model="bundled:all-minilm-l6-v2", rescale_with_baseline=True)
