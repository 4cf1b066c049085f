"""ROUGE-1/2/L/Lsum F-measure through rouge-score, with a tokenizer that keeps Hangul.

English: rouge-score's own tokenizer with Porter stemming (its scores are rouge-score's, exactly).
Korean: Kiwi morphemes (evaluators/lexical/korean.py), no stemming. ROUGE-Lsum treats each line
as a sentence, as rouge-score does; for Korean, text without line breaks is first split into
sentences by Kiwi (summaries are seldom written one sentence per line).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version
from typing import Any

from evaluators.base import Evaluation, Evaluator, mean_score

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


class Rouge(Evaluator):
    name = "rouge"
    version = "1.0"
    primary = "rougeL"
    metrics = ROUGE_TYPES

    def __init__(self, lang: str, *, use_stemmer: bool | None = None, split_sentences: bool | None = None):
        super().__init__(lang)
        self.use_stemmer = (lang == "en") if use_stemmer is None else use_stemmer
        self.split_sentences = (lang == "ko") if split_sentences is None else split_sentences

    @property
    def params(self) -> dict[str, Any]:
        from evaluators.lexical import korean

        return {
            "rouge_types": list(ROUGE_TYPES),
            "measure": "fmeasure",
            "tokenizer": korean.tokenizer_label() if self.lang == "ko" else "rouge-score default",
            "use_stemmer": self.use_stemmer,
            "lsum_sentences": "kiwi sentence split" if self.split_sentences else "one per line",
            "rouge_score": version("rouge-score"),
        }

    @cached_property
    def _scorer(self) -> Any:
        from rouge_score import rouge_scorer

        tokenizer = None
        if self.lang == "ko":
            from evaluators.lexical.korean import MorphemeTokenizer

            tokenizer = MorphemeTokenizer()
        return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=self.use_stemmer, tokenizer=tokenizer)

    def _lines(self, text: str) -> str:
        if not self.split_sentences or "\n" in text.strip():
            return text
        from evaluators.lexical.korean import sentences

        return "\n".join(sentences(text))

    def _score(self, predictions: Sequence[str], references: Sequence[str]) -> Evaluation:
        samples = []
        for prediction, reference in zip(predictions, references, strict=True):
            scores = self._scorer.score(self._lines(reference), self._lines(prediction))  # (target, pred)
            samples.append({rouge_type: scores[rouge_type].fmeasure for rouge_type in ROUGE_TYPES})
        corpus = {rouge_type: mean_score([s[rouge_type] for s in samples]) for rouge_type in ROUGE_TYPES}
        return self._evaluation(corpus, samples)
