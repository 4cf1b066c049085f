"""What every evaluator is: a name, a version, a direction, a score per sample and a corpus-level
aggregate with its standard error, and the parameters that produced them.

Scores are on 0..1 everywhere they are stored or served (the board draws them on 0..100); BLEU and
chrF, which sacrebleu reports on 0..100, are divided by 100 on the way out.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

LANGUAGES = ("ko", "en")


class EvaluatorInputError(ValueError):
    """Input an evaluator cannot score; the message says what to change."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CorpusScore:
    value: float
    stderr: float | None
    stderr_method: str  # "mean" (sample std / sqrt n) | "bootstrap" (resampled items) | "none"


@dataclass
class Evaluation:
    evaluator: str
    version: str
    lang: str
    params: dict[str, Any]
    primary: str  # the metric a benchmark ranks by when it names only the evaluator
    higher_is_better: bool
    corpus: dict[str, CorpusScore]
    samples: list[dict[str, float]] = field(default_factory=list)  # per pair, metric -> score

    @property
    def n(self) -> int:
        return len(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluator": self.evaluator,
            "version": self.version,
            "lang": self.lang,
            "params": self.params,
            "primary": self.primary,
            "higher_is_better": self.higher_is_better,
            "n": self.n,
            "scores": {
                name: {"value": s.value, "stderr": s.stderr, "stderr_method": s.stderr_method}
                for name, s in self.corpus.items()
            },
        }


def check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise EvaluatorInputError(
            f"{len(predictions)} predictions but {len(references)} references: give one reference per "
            "prediction, in the same order (line i of one file pairs with line i of the other)",
            "references",
        )
    if not predictions:
        raise EvaluatorInputError("no predictions to score: give at least one prediction/reference pair")
    for index, (prediction, reference) in enumerate(zip(predictions, references, strict=True)):
        for name, text in (("predictions", prediction), ("references", reference)):
            if not isinstance(text, str):
                raise EvaluatorInputError(f"{name}[{index}] is {type(text).__name__}, not text", name)
        if not reference.strip():
            raise EvaluatorInputError(
                f"references[{index}] (line {index + 1}) is empty: every prediction needs a reference",
                "references",
            )


def mean_score(values: Sequence[float]) -> CorpusScore:
    """The mean of sample scores with the standard error of the mean (lm-eval's mean_stderr)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return CorpusScore(mean, None, "mean")
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return CorpusScore(mean, math.sqrt(variance / n), "mean")


class Evaluator(ABC):
    name: ClassVar[str]
    version: ClassVar[str]  # bumps when a default or the scoring changes the numbers
    higher_is_better: ClassVar[bool] = True
    primary: str  # per instance where a parameter renames the metric (chrF++)
    metrics: tuple[str, ...]

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise EvaluatorInputError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}", "lang")
        self.lang = lang

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Everything that changes the numbers, recorded with each result."""

    @abstractmethod
    def _score(self, predictions: Sequence[str], references: Sequence[str]) -> Evaluation: ...

    def evaluate(self, predictions: Sequence[str], references: Sequence[str]) -> Evaluation:
        check_pairs(predictions, references)
        return self._score(predictions, references)

    def _evaluation(self, corpus: dict[str, CorpusScore], samples: list[dict[str, float]]) -> Evaluation:
        return Evaluation(
            evaluator=self.name,
            version=self.version,
            lang=self.lang,
            params=self.params,
            primary=self.primary,
            higher_is_better=self.higher_is_better,
            corpus=corpus,
            samples=samples,
        )
