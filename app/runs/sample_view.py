"""The per-sample browser of a model page: a page of lm-eval's logged samples (through the same
service as GET /api/v1/requests/{id}/samples, so private benchmarks stay withheld) turned into
prompt, response, target and score.

lm-eval logs a sample as {doc_id, doc, target, arguments, resps, filtered_resps, metrics, <metric>:
value, ...}: for a log-likelihood (multiple choice) item, `arguments` holds one (context,
continuation) pair per choice and `filtered_resps` one (log-likelihood, is_greedy) pair per choice;
for a generation item, one (context, generation kwargs) pair and the generated text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.runs.artifacts import samples_page

SAMPLES_PER_PAGE = 10
# Why a page of samples cannot be shown; the page says it in its own language.
PROBLEMS: tuple[tuple[type[AppError], str], ...] = (
    (Forbidden, "private"),
    (Conflict, "not_finished"),
    (NotFound, "missing"),
    (InvalidInput, "unknown_benchmark"),
)


@dataclass(frozen=True)
class SampleView:
    doc_id: Any
    benchmark: str
    prompt: str
    choices: list[str]  # multiple choice: the continuations scored; empty for generation
    response: str
    target: str
    metrics: dict[str, str]
    correct: bool | None  # from a 0/1 metric; None when the metrics are not right/wrong
    judge: str = ""  # an LLM-judged item's rationale (harness/judged.py), as the judge wrote it


@dataclass(frozen=True)
class SampleBrowser:
    request_id: int
    benchmark: str | None
    offset: int
    limit: int
    total: int = 0
    items: list[SampleView] = field(default_factory=list)
    problem: str | None = None  # a PROBLEMS code
    detail: str | None = None  # the service's own (English) message

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def _pairs(arguments: Any) -> list[list[Any]]:
    """lm-eval's arguments as [first, second] lists: tuples become lists in JSON, and newer
    versions log {"gen_args_0": {"arg_0": ..., "arg_1": ...}, ...}."""
    if isinstance(arguments, dict):
        arguments = [
            [value.get("arg_0"), value.get("arg_1")] if isinstance(value, dict) else [value]
            for value in arguments.values()
        ]
    if not isinstance(arguments, list):
        return []
    return [list(arg) if isinstance(arg, list | tuple) else [arg] for arg in arguments]


def _loglikelihood(response: Any) -> float | None:
    while isinstance(response, list | tuple) and response:
        response = response[0]
    return float(response) if isinstance(response, int | float) and not isinstance(response, bool) else None


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _metric_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _text(value)


def describe(record: dict[str, Any]) -> SampleView:
    """Prompt, response, target and per-sample metrics of one logged sample."""
    pairs = _pairs(record.get("arguments"))
    prompt = _text(pairs[0][0]) if pairs and pairs[0] else ""
    seconds = [pair[1] for pair in pairs if len(pair) > 1]
    multiple_choice = bool(seconds) and all(isinstance(s, str) for s in seconds) and len(seconds) > 1
    choices = [str(s) for s in seconds] if multiple_choice else []
    filtered = record.get("filtered_resps")
    filtered = filtered if isinstance(filtered, list) else [filtered]
    if choices:
        scores = [_loglikelihood(r) for r in filtered]
        known = [(s, i) for i, s in enumerate(scores) if s is not None and i < len(choices)]
        response = choices[max(known)[1]] if known else _text(filtered)
    else:
        response = _text(filtered[0] if len(filtered) == 1 else filtered)
    target = record.get("target")
    if choices and isinstance(target, int) and not isinstance(target, bool) and 0 <= target < len(choices):
        target_text = choices[target]
    else:
        target_text = _text(target)
    names = record.get("metrics")
    names = names if isinstance(names, list) else []
    metrics = {str(name): _metric_text(record[name]) for name in names if name in record}
    first = record.get(names[0]) if names else None
    # Graded scores (ROUGE, chrF: harness/generation_scoring.py marks them) are never right/wrong,
    # even where one happens to be exactly 0 or 1.
    graded = record.get("scored_by") is not None
    correct = bool(first) if not graded and isinstance(first, int | float) and first in (0, 1) else None
    return SampleView(
        doc_id=record.get("doc_id"),
        benchmark=str(record.get("benchmark", "")),
        prompt=prompt,
        choices=choices,
        response=response,
        target=target_text,
        metrics=metrics,
        correct=correct,
        judge=_text(record.get("judge_rationale")),
    )


def browse_samples(
    session: Session,
    request_id: int,
    *,
    benchmark: str | None,
    offset: int,
    limit: int = SAMPLES_PER_PAGE,
    private_dir: Path | None,
) -> SampleBrowser:
    """A page of samples, or the reason there is none (a private benchmark, a run not finished,
    files no longer on this server, a benchmark the run does not have)."""
    where = SampleBrowser(request_id=request_id, benchmark=benchmark, offset=offset, limit=limit)
    try:
        page = samples_page(
            session, request_id, benchmark=benchmark, offset=offset, limit=limit, private_dir=private_dir
        )
    except AppError as exc:
        code = next((code for kind, code in PROBLEMS if isinstance(exc, kind)), "missing")
        return replace(where, problem=code, detail=exc.message)
    return replace(where, total=page["total"], items=[describe(record) for record in page["items"]])
