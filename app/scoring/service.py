"""Scoring given predictions against references, for the API.

Lexical metrics (ROUGE with Kiwi, sacrebleu) run in the API process: they import no torch.
BERTScore does, and the API process never imports it: it runs in one long-lived subprocess that
keeps its scorer loaded between requests (started on first use, stopped with the app).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from app.config import Settings
from app.errors import AppError, InvalidInput
from app.scoring.schemas import ScoreIn
from evaluators import registry
from evaluators.base import EvaluatorInputError, check_pairs
from evaluators.run import score_pairs

# What a request may choose; the rest (the BERTScore model, its device) is the server's to set.
REQUEST_PARAMS = {
    "rouge": {"use_stemmer", "split_sentences"},
    "bleu": {"tokenize", "lowercase"},
    "chrf": {"word_order", "lowercase"},
    "bertscore": {"idf", "rescale_with_baseline", "precision"},
}
MAX_TEXT_CHARS = 20_000


class PayloadTooLarge(AppError):
    status_code = 413


def check_request(request: ScoreIn, settings: Settings) -> dict[str, Any]:
    """The evaluator parameters to use, or an error naming the field to change."""
    if request.metric not in registry.names():
        raise InvalidInput(
            f"unknown metric {request.metric!r}: use one of {', '.join(registry.names())}", field="metric"
        )
    pairs = len(request.predictions)
    if pairs > settings.score_max_pairs or len(request.references) > settings.score_max_pairs:
        raise PayloadTooLarge(
            f"{max(pairs, len(request.references))} pairs is over this server's limit of "
            f"{settings.score_max_pairs}: split the request",
            field="predictions",
        )
    for name, texts in (("predictions", request.predictions), ("references", request.references)):
        for index, text in enumerate(texts):
            if len(text) > MAX_TEXT_CHARS:
                raise PayloadTooLarge(
                    f"{name}[{index}] has {len(text)} characters; at most {MAX_TEXT_CHARS} per text",
                    field=name,
                )
    try:
        check_pairs(request.predictions, request.references)
    except EvaluatorInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    allowed = REQUEST_PARAMS[request.metric]
    for key in request.params:
        if key not in allowed:
            where = (
                "set by the server"
                if request.metric == "bertscore" and key in ("model", "num_layers")
                else ("not a request option")
            )
            raise InvalidInput(
                f"params.{key} is {where} for {request.metric}; a request may set: "
                f"{', '.join(sorted(allowed)) or 'nothing'}",
                field=f"params.{key}",
            )
    params = dict(request.params)
    if request.metric == "bertscore":
        params.update(settings.bertscore_options)
    return params


class ScoringPool:
    """The BERTScore subprocess. Spawned, not forked: the API process runs threads."""

    def __init__(self) -> None:
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    def executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn")
                )
            return self._executor

    def reset(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.reset()


async def score(request: ScoreIn, settings: Settings, pool: ScoringPool) -> dict[str, Any]:
    params = check_request(request, settings)
    arguments = (request.metric, request.lang, params, request.predictions, request.references)
    loop = asyncio.get_running_loop()
    try:
        if request.metric in registry.HEAVY:
            try:
                return await loop.run_in_executor(
                    pool.executor(), _score_in_subprocess, *arguments, request.samples
                )
            except BrokenProcessPool as exc:  # killed (out of memory): the next request starts afresh
                pool.reset()
                raise AppError("the scoring process stopped; try again with fewer pairs") from exc
        return await loop.run_in_executor(None, lambda: score_pairs(*arguments, with_samples=request.samples))
    except EvaluatorInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc


def _score_in_subprocess(
    metric: str,
    lang: str,
    params: dict[str, Any],
    predictions: list[str],
    references: list[str],
    samples: bool,
) -> dict[str, Any]:
    return score_pairs(metric, lang, params, predictions, references, with_samples=samples)
