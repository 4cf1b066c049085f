"""One entry point that scores pairs and returns plain data: the CLI calls it, the API calls it in
process (lexical metrics) or in its scoring subprocess (BERTScore), and the result is the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evaluators import registry


def score_pairs(
    metric: str,
    lang: str,
    params: dict[str, Any],
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    with_samples: bool = True,
) -> dict[str, Any]:
    evaluation = registry.create(metric, lang, **params).evaluate(predictions, references)
    result = evaluation.as_dict()
    if with_samples:
        result["samples"] = evaluation.samples
    return result
