"""Two to four models side by side on one suite and data board, and whether each gap to the best
model on a benchmark is larger than the noise of the two measurements.

A gap counts as significant when it exceeds the combined standard error sqrt(se1² + se2²) of the
two scores: about one standard deviation of the difference, a deliberately plain rule the page
states, not a hypothesis test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.leaderboard.entries import DATA_BOARDS
from app.runs.model_pages import LARGEST_ID, SuiteResult, is_whole_number, latest_results
from app.submissions.schemas import ModelOut
from app.submissions.service import models_out
from app.tables import LlmModel
from benchmarks.catalog import all_suites
from benchmarks.spec import Suite

MIN_MODELS = 2
MAX_MODELS = 4

BEST = "best"
SIGNIFICANT = "significant"
WITHIN_ERROR = "within_error"
UNKNOWN_ERROR = "unknown_error"  # a score without a standard error: no call either way
MISSING = "missing"


class BadComparison(AppError):
    """Input the compare page cannot use. `code` and `values` let the page say it in its own
    language; the message is the English one."""

    def __init__(self, code: str, message: str, *, status: int = 422, **values: object) -> None:
        super().__init__(message, field="ids")
        self.code = code
        self.status_code = status
        self.values = values


@dataclass(frozen=True)
class Cell:
    value: float | None
    stderr: float | None
    n: int | None
    verdict: str  # BEST | SIGNIFICANT | WITHIN_ERROR | UNKNOWN_ERROR | MISSING
    gap: float | None = None  # best - value
    combined_stderr: float | None = None  # sqrt(se_best² + se²)


@dataclass(frozen=True)
class CompareRow:
    benchmark: str
    display_en: str
    display_ko: str
    metric: str
    cells: list[Cell]


@dataclass(frozen=True)
class Comparison:
    models: list[ModelOut]
    suite: Suite
    board: str
    options: list[tuple[str, str]]  # (suite, board) pairs on which every model has results
    results: list[SuiteResult | None]  # per model; None: no finished run there
    rows: list[CompareRow] = field(default_factory=list)

    @property
    def averages(self) -> list[float | None]:
        return [result.average if result else None for result in self.results]

    @property
    def without_results(self) -> list[ModelOut]:
        return [model for model, result in zip(self.models, self.results, strict=True) if result is None]


def parse_ids(text: str) -> list[int]:
    """'1,2,3' (spaces allowed, repeats dropped) into 2..4 model ids."""
    parts = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    not_numbers = [part for part in parts if not is_whole_number(part)]
    if not_numbers:
        listed = ", ".join(not_numbers)
        raise BadComparison(
            "not_numbers", f"model ids are whole numbers, these are not: {listed}", values=listed
        )
    ids = list(dict.fromkeys(int(part) for part in parts))
    if not MIN_MODELS <= len(ids) <= MAX_MODELS:
        code, limit = ("too_few", MIN_MODELS) if len(ids) < MIN_MODELS else ("too_many", MAX_MODELS)
        raise BadComparison(
            code,
            f"compare takes {MIN_MODELS} to {MAX_MODELS} models; got {len(ids)}",
            count=len(ids),
            limit=limit,
        )
    return ids


def verdicts(scores: list[tuple[float | None, float | None]]) -> list[Cell]:
    """Each (value, stderr) against the best value among them (ties all count as best)."""
    present = [value for value, _ in scores if value is not None]
    if not present:
        return [Cell(None, stderr, None, MISSING) for _, stderr in scores]
    best_value = max(present)
    best_stderr = next(stderr for value, stderr in scores if value == best_value)
    cells = []
    for value, stderr in scores:
        if value is None:
            cells.append(Cell(None, None, None, MISSING))
            continue
        if value == best_value:
            cells.append(Cell(value, stderr, None, BEST))
            continue
        gap = best_value - value
        if stderr is None or best_stderr is None:
            cells.append(Cell(value, stderr, None, UNKNOWN_ERROR, gap=gap))
            continue
        combined = math.sqrt(best_stderr**2 + stderr**2)
        verdict = SIGNIFICANT if gap > combined else WITHIN_ERROR
        cells.append(Cell(value, stderr, None, verdict, gap=gap, combined_stderr=combined))
    return cells


def _models(session: Session, ids: list[int]) -> list[ModelOut]:
    possible = [model_id for model_id in ids if model_id <= LARGEST_ID]
    found = {m.id: m for m in session.scalars(select(LlmModel).where(LlmModel.id.in_(possible)))}
    unknown = [model_id for model_id in ids if model_id not in found]
    if unknown:
        listed = ", ".join(map(str, unknown))
        raise BadComparison("unknown_models", f"no model with id {listed}", status=404, values=listed)
    return models_out(session, [found[model_id] for model_id in ids])


def _pick(
    options: list[tuple[str, str]], suite: str | None, board: str | None, anywhere: set[tuple[str, str]]
) -> tuple[str, str] | None:
    """The asked-for suite and board, else the first shared option that fits what was asked."""
    if suite and board:
        return suite, board
    fitting = [o for o in options if (suite is None or o[0] == suite) and (board is None or o[1] == board)]
    if fitting:
        return fitting[0]
    if suite:  # not every model has it: show it anyway, with the gaps marked
        return suite, next((b for b in DATA_BOARDS if (suite, b) in anywhere), DATA_BOARDS[0])
    return None


def compare(
    session: Session,
    ids: list[int],
    *,
    suite: str | None,
    board: str | None,
    private_dir: Path | None,
) -> Comparison | None:
    """None when no suite was asked for and the models share none."""
    if board is not None and board not in DATA_BOARDS:
        raise BadComparison("unknown_board", f"data is one of {', '.join(DATA_BOARDS)}", values=board)
    suites = all_suites(private_dir)
    if suite is not None and suite not in suites:
        raise BadComparison("unknown_suite", f"unknown suite {suite!r}", status=404, values=suite)
    models = _models(session, ids)
    per_model = [
        {(r.suite, r.board): r for r in latest_results(session, model.id, private_dir)} for model in models
    ]
    options = [
        (name, data) for name in suites for data in DATA_BOARDS if all((name, data) in m for m in per_model)
    ]
    anywhere = {key for m in per_model for key in m}
    chosen = _pick(options, suite, board, anywhere)
    if chosen is None:
        return None
    spec_suite = suites[chosen[0]]
    results = [m.get(chosen) for m in per_model]
    rows = []
    for spec in spec_suite.benchmarks:
        scores = [result.score(spec.name) if result else None for result in results]
        cells = verdicts([(s.value, s.stderr) if s else (None, None) for s in scores])
        cells = [
            Cell(c.value, c.stderr, s.n if s else None, c.verdict, c.gap, c.combined_stderr)
            for c, s in zip(cells, scores, strict=True)
        ]
        # Normalized benchmarks store score_normalized, not the spec's raw primary metric.
        metric = next((s.metric for s in scores if s), spec.primary_metric)
        rows.append(CompareRow(spec.name, spec.display_en, spec.display_ko, metric, cells))
    return Comparison(models, spec_suite, chosen[1], options, results, rows)
