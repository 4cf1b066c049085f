"""Evaluators by name, imported only when asked for (bert-score pulls torch; the API process lists
and validates names without importing it)."""

from __future__ import annotations

import importlib
from typing import Any

from evaluators.base import Evaluator, EvaluatorInputError

_EVALUATORS = {
    "rouge": "evaluators.lexical.rouge:Rouge",
    "bleu": "evaluators.lexical.sacrebleu_metrics:Bleu",
    "chrf": "evaluators.lexical.sacrebleu_metrics:Chrf",
    "bertscore": "evaluators.semantic.bertscore:BertScore",
}
HEAVY = frozenset({"bertscore"})  # needs torch: the API runs it in its scoring subprocess


def names() -> list[str]:
    return list(_EVALUATORS)


def evaluator_class(name: str) -> type[Evaluator]:
    if name not in _EVALUATORS:
        raise EvaluatorInputError(f"unknown metric {name!r}: use one of {', '.join(_EVALUATORS)}", "metric")
    module, _, attribute = _EVALUATORS[name].partition(":")
    cls: type[Evaluator] = getattr(importlib.import_module(module), attribute)
    return cls


def create(name: str, lang: str, **params: Any) -> Evaluator:
    """An evaluator with its parameters; unknown parameters are an input error, not a crash."""
    cls = evaluator_class(name)
    try:
        return cls(lang, **params)
    except TypeError as exc:
        raise EvaluatorInputError(f"{name}: {exc}", "params") from exc
