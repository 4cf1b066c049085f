"""POST /api/v1/score: predictions and references in, corpus scores (and per-pair scores) out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ScoreIn(BaseModel):
    metric: str = Field(description="rouge, bleu, chrf or bertscore")
    lang: Literal["ko", "en"] = Field(description="Language of the texts: picks the tokenizer / model")
    predictions: list[str] = Field(description="One prediction per item")
    references: list[str] = Field(description="One reference per item, in the same order")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Evaluator options a request may set: rouge {use_stemmer, split_sentences}, bleu "
        "{tokenize, lowercase}, chrf {word_order, lowercase}, bertscore {idf, rescale_with_baseline}",
    )
    samples: bool = Field(True, description="Include per-pair scores")


class CorpusScoreOut(BaseModel):
    value: float
    stderr: float | None
    stderr_method: str


class ScoreOut(BaseModel):
    evaluator: str
    version: str
    lang: str
    params: dict[str, Any]
    primary: str
    higher_is_better: bool
    n: int
    scores: dict[str, CorpusScoreOut]
    samples: list[dict[str, float]] | None = None
