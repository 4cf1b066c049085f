"""One judge per judged column: scores from another judge model or prompt version are never
averaged or ranked together.

A judged benchmark's score depends on who judged it as much as on the model, so every judged
column of a board (suite, data board) has one judge identity: "<judge model> · <prompt version>"
(e.g. "gpt-4o-2024-08-06 · single-ko@1"), shown in the column's header and the API. It is the
identity of the column's most recently finished result: the judge the server uses now. A row whose
score in that column came from another judge keeps it, visible and marked (`judge`,
`judge_apart`), but not counted: the cell has no value there, so it sorts last in the column, and
the row has no average, so it ranks with incomplete runs. Changing the judge model or a prompt's
version therefore starts the column afresh with the first result of the new judge, which
re-derives every row of that board once (entries.refresh); re-running a model with the new judge
puts it back in the ranking.

This keeps one column per benchmark and one row per model (no schema change, no new board key),
and needs nothing from the readers of the index but the two cell fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.tables import EvalRequest, LeaderboardEntry, RequestStatus, Result
from benchmarks.catalog import get_suite
from benchmarks.datasources import data_board
from benchmarks.spec import Suite

# Latest results read per judged column to find the newest on the board (a mixed run's result may
# be on the other data board).
LOOKBACK = 50


def identity(provenance: dict[str, Any] | None) -> str | None:
    """'judge model · prompt version' of a judged result; None for any other result."""
    judge = (provenance or {}).get("judge") or {}
    model, version = judge.get("judge_model"), judge.get("prompt_version")
    if not model and not version:
        return None
    return f"{model or '?'} · {version or '?'}"


def judged_benchmarks(suite: Suite) -> list[str]:
    return [spec.name for spec in suite.benchmarks if spec.judge is not None]


def column_judges(
    session: Session, suite: Suite, board: str, *, excluding: int | None = None
) -> dict[str, str | None]:
    """Each judged benchmark's judge on this board: that of its most recently finished result
    (`excluding` a request: the identity before that request finished)."""
    from app.leaderboard.entry_rows import benchmark_source

    columns: dict[str, str | None] = {}
    for name in judged_benchmarks(suite):
        query = (
            select(Result.provenance, EvalRequest.data_source)
            .join(EvalRequest, Result.request_id == EvalRequest.id)
            .where(
                EvalRequest.suite == suite.name,
                EvalRequest.status == RequestStatus.FINISHED,
                Result.benchmark == name,
                Result.is_primary.is_(True),
            )
            .order_by(EvalRequest.finished_at.desc().nulls_last(), EvalRequest.id.desc())
            .limit(LOOKBACK)
        )
        if excluding is not None:
            query = query.where(EvalRequest.id != excluding)
        for provenance, label in session.execute(query):
            if data_board(benchmark_source(provenance, label)) == board:
                columns[name] = identity(provenance)
                break
    return columns


def set_apart(cells: dict[str, dict[str, Any]], columns: dict[str, str | None]) -> set[str]:
    """The benchmarks among `cells` (a row's cells on this board) judged by another judge than
    their column's; those cells are marked `judge_apart` in place."""
    apart = set()
    for name, judge in columns.items():
        cell = cells.get(name)
        if cell is not None and cell.get("judge") != judge:
            cell["judge_apart"] = True
            apart.add(name)
    return apart


def models_to_rebuild(
    session: Session, request: EvalRequest, board: str, private_dir: Path | None
) -> list[int]:
    """The models whose row on this board must be re-derived now that `request` finished: its own,
    and every other one when it changed a judged column's judge."""
    try:
        suite = get_suite(request.suite, private_dir)
    except KeyError:
        return [request.model_id]
    if not judged_benchmarks(suite):
        return [request.model_id]
    before = column_judges(session, suite, board, excluding=request.id)
    now = column_judges(session, suite, board)
    if all(now.get(name) == judge for name, judge in before.items()):
        return [request.model_id]
    shown = session.scalars(
        select(LeaderboardEntry.model_id).where(
            LeaderboardEntry.suite == request.suite, LeaderboardEntry.board == board
        )
    )
    return sorted({request.model_id, *shown})
