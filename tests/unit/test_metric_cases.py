"""The one runner for the metric test cases kept as data in tests/data/metric_cases/: English ROUGE
equals rouge-score's, BLEU and chrF equal sacrebleu's command line, Korean ROUGE equals
hand-computed morpheme counts (and rouge-score's own tokenizer really scores those pairs 0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluators import registry
from evaluators.lexical.korean import morphemes

CASES = Path(__file__).parents[1] / "data" / "metric_cases"


def load(name: str) -> dict[str, Any]:
    return json.loads((CASES / name).read_text(encoding="utf-8"))


EXPECTED = load("expected.json")
KOREAN = load("rouge_ko.json")


def f_from_counts(matches: int, prediction_length: int, reference_length: int) -> float:
    return 2 * matches / (prediction_length + reference_length)


@pytest.mark.parametrize("case", KOREAN["cases"], ids=lambda c: c["reference"])
def test_korean_rouge_equals_hand_counted_morphemes(case: dict[str, Any]) -> None:
    assert morphemes(case["reference"]) == case["reference_morphemes"]
    assert morphemes(case["prediction"]) == case["prediction_morphemes"]
    result = registry.create("rouge", "ko").evaluate([case["prediction"]], [case["reference"]])
    sample = result.samples[0]
    for rouge_type, counts in case["counts"].items():
        assert sample[rouge_type] == pytest.approx(f_from_counts(*counts), abs=1e-12), rouge_type
        assert sample[rouge_type] > 0
    assert sample["rougeLsum"] == pytest.approx(sample["rougeL"], abs=1e-12)  # one sentence each


@pytest.mark.parametrize("case", KOREAN["cases"][:2], ids=lambda c: c["reference"])
def test_rouge_scores_default_tokenizer_drops_hangul(case: dict[str, Any]) -> None:
    """The failure the Korean tokenizer exists for: rouge-score alone scores these pairs 0."""
    from rouge_score import rouge_scorer

    score = rouge_scorer.RougeScorer(["rouge1"]).score(case["reference"], case["prediction"])
    assert score["rouge1"].fmeasure == case["default_tokenizer_f"] == 0.0


def test_english_rouge_lsum_reads_lines_as_sentences_like_rouge_score() -> None:
    inputs = load(EXPECTED["rouge_en"]["inputs"])["multiline"]
    result = registry.create("rouge", "en").evaluate(inputs["predictions"], inputs["references"])
    expected = EXPECTED["rouge_en"]["multiline_per_pair"]
    for ours, theirs in zip(result.samples, expected, strict=True):
        assert ours == pytest.approx(theirs, abs=1e-12)
        # Sentences in another order: the union LCS over lines finds more than one LCS does.
        assert theirs["rougeLsum"] > theirs["rougeL"]


def test_english_rouge_equals_rouge_score() -> None:
    inputs = load(EXPECTED["rouge_en"]["inputs"])
    result = registry.create("rouge", "en").evaluate(inputs["predictions"], inputs["references"])
    expected = EXPECTED["rouge_en"]["per_pair"]
    assert len(result.samples) == len(expected)
    for ours, theirs in zip(result.samples, expected, strict=True):
        assert ours == pytest.approx(theirs, abs=1e-12)
    mean = sum(pair["rougeL"] for pair in expected) / len(expected)
    assert result.corpus["rougeL"].value == pytest.approx(mean, abs=1e-12)
    assert result.corpus["rougeL"].stderr is not None and result.corpus["rougeL"].stderr > 0


@pytest.mark.parametrize(
    "case", EXPECTED["sacrebleu_cli"], ids=lambda c: c["command"].split("-i preds.txt ")[1]
)
def test_bleu_and_chrf_equal_sacrebleu_command_line(case: dict[str, Any]) -> None:
    inputs = load(case["inputs"])
    evaluator = registry.create(case["metric"], inputs["lang"], **case["params"])
    result = evaluator.evaluate(inputs["predictions"], inputs["references"])
    score = result.corpus[result.primary]
    # The CLI prints 4 decimals on 0..100; we store 0..1.
    assert score.value * 100 == pytest.approx(case["expected"], abs=5e-5)
    assert score.stderr_method == "bootstrap" and score.stderr is not None and score.stderr > 0
    assert len(result.samples) == len(inputs["predictions"])


def test_korean_bleu_depends_on_the_tokenizer_as_documented() -> None:
    by_tokenizer = {
        case["params"]["tokenize"]: case["expected"]
        for case in EXPECTED["sacrebleu_cli"]
        if case["inputs"] == "inputs_ko.json" and case["metric"] == "bleu"
    }
    # 13a splits on spaces only, so 서울은/서울의 never match: far below morpheme tokenization.
    assert by_tokenizer["13a"] < by_tokenizer["ko-mecab"] < by_tokenizer["char"]


def test_recorded_values_are_what_the_tools_give_today() -> None:
    """expected.json is not a snapshot of our own output: re-run rouge-score and sacrebleu's CLI."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("record_expected", CASES / "record_expected.py")
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    sys.modules["record_expected"] = recorder
    spec.loader.exec_module(recorder)
    assert recorder.record() == EXPECTED
