"""BLEU and chrF / chrF++ through sacrebleu, at corpus level (as sacrebleu's command line scores
a test set), with a bootstrap stderr and sentence-level scores for the per-sample view.

Tokenization for BLEU: English 13a (sacrebleu's default, WMT's); Korean ko-mecab (mecab-ko's
morphemes, from sacrebleu[ko]). BLEU on Korean moves by 20+ points with the tokenizer: 13a splits
only on spaces and punctuation, so 서울은 and 서울의 never match; `char` (every character a token)
is the stated alternative where mecab is unavailable. chrF counts character n-grams and needs no
tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from evaluators.base import CorpusScore, Evaluation, Evaluator, EvaluatorInputError
from evaluators.bootstrap import DEFAULT_ITERATIONS, bootstrap_stderr

BLEU_TOKENIZERS = ("13a", "ko-mecab", "char", "intl", "none", "zh", "ja-mecab", "flores200")
DEFAULT_BLEU_TOKENIZER = {"en": "13a", "ko": "ko-mecab"}


class _SacreMetric(Evaluator):
    """Shared by BLEU and chrF: sacrebleu's segment statistics give the corpus score, sentence
    scores and the bootstrap without tokenizing anything twice."""

    bootstrap_iterations: int = DEFAULT_ITERATIONS

    def _metrics(self) -> tuple[Any, Any]:
        """(corpus metric, sentence metric) sacrebleu objects."""
        raise NotImplementedError

    def _score(self, predictions: Sequence[str], references: Sequence[str]) -> Evaluation:
        corpus_metric, sentence_metric = self._metrics()
        stats = corpus_metric._extract_corpus_statistics(list(predictions), [list(references)])
        value = corpus_metric._aggregate_and_compute(stats).score / 100

        def score_of(totals: list[Any]) -> float:
            return float(corpus_metric._compute_score_from_stats(totals).score) / 100

        stderr = bootstrap_stderr(stats, score_of, iterations=self.bootstrap_iterations)
        samples = [
            {self.primary: sentence_metric._compute_score_from_stats(list(s)).score / 100} for s in stats
        ]
        method = "bootstrap" if stderr is not None else "none"
        evaluation = self._evaluation({self.primary: CorpusScore(value, stderr, method)}, samples)
        evaluation.params["signature"] = str(corpus_metric.get_signature())  # known once it has scored
        return evaluation


class Bleu(_SacreMetric):
    name = "bleu"
    version = "1.0"
    primary = "bleu"
    metrics = ("bleu",)

    def __init__(self, lang: str, *, tokenize: str | None = None, lowercase: bool = False):
        super().__init__(lang)
        self.tokenize = tokenize or DEFAULT_BLEU_TOKENIZER[lang]
        if self.tokenize not in BLEU_TOKENIZERS:
            raise EvaluatorInputError(
                f"unknown BLEU tokenizer {self.tokenize!r}: use one of {', '.join(BLEU_TOKENIZERS)}",
                "tokenize",
            )
        self.lowercase = lowercase

    def _metrics(self) -> tuple[Any, Any]:
        from sacrebleu.metrics import BLEU

        corpus = BLEU(tokenize=self.tokenize, lowercase=self.lowercase)
        return corpus, BLEU(tokenize=self.tokenize, lowercase=self.lowercase, effective_order=True)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "tokenize": self.tokenize,
            "lowercase": self.lowercase,
            "bootstrap_iterations": self.bootstrap_iterations,
            "sample_score": "sentence BLEU, effective order",
        }


class Chrf(_SacreMetric):
    """chrF (word_order 0) or chrF++ (word_order 2, also word uni- and bigrams)."""

    name = "chrf"
    version = "1.0"
    primary = "chrf"
    metrics = ("chrf",)

    def __init__(self, lang: str, *, word_order: int = 0, lowercase: bool = False):
        super().__init__(lang)
        if word_order not in (0, 1, 2):
            raise EvaluatorInputError("word_order must be 0 (chrF), 1 or 2 (chrF++)", "word_order")
        self.word_order = word_order
        self.lowercase = lowercase
        self.primary = "chrf++" if word_order == 2 else "chrf"
        self.metrics = (self.primary,)

    def _metrics(self) -> tuple[Any, Any]:
        from sacrebleu.metrics import CHRF

        metric = CHRF(word_order=self.word_order, lowercase=self.lowercase)
        return metric, metric

    @property
    def params(self) -> dict[str, Any]:
        return {
            "word_order": self.word_order,
            "variant": "chrF++" if self.word_order == 2 else "chrF",
            "lowercase": self.lowercase,
            "bootstrap_iterations": self.bootstrap_iterations,
            "sacrebleu": version("sacrebleu"),
        }
