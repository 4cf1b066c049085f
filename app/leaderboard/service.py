"""The ranked board, read from its index (leaderboard_entry, kept by app/leaderboard/entries.py).

Each model's latest finished request on a suite, averaged over its benchmarks' primary metrics. A
model missing a benchmark has no average and ranks last, so a partial run can never outrank a
complete one. Real-data and sample-data scores are two boards that never share a ranking: a model's
score on the bundled sample items says the pipeline works, not how it compares with a full run.

Filters, sort and pages run in SQL (keyset pages: the cost of page 200 is the cost of page 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.leaderboard import judge_columns, lineage
from app.leaderboard import query as board_query
from app.leaderboard.bootstrap import LEVEL as TIE_LEVEL
from app.leaderboard.entries import admin_flag_reason
from app.leaderboard.query import BoardQuery
from app.leaderboard.schemas import BenchmarkColumn, BoardStanding, LeaderboardPage, LeaderboardRow, Score
from app.tables import LeaderboardEntry
from benchmarks.catalog import get_suite
from benchmarks.spec import Suite

DATA_NOTES = {
    "hub": "Real datasets: each benchmark's full items (from the hub, or held out on this server).",
    "bundled": (
        "Sample data: a pipeline check, not comparable. Scores on the small item samples bundled with "
        "evalboard (and on runs that mixed sample and real data or predate this label)."
    ),
}
EXPORT_BATCH = 500


def resolve_suite(name: str, private_dir: Path | None) -> Suite:
    try:
        return get_suite(name, private_dir)
    except KeyError as exc:
        raise InvalidInput(exc.args[0], field="suite") from None


def leaderboard(session: Session, query: BoardQuery, suite: Suite) -> LeaderboardPage:
    rows, next_after = _page(session, query, suite)
    total = session.scalar(
        select(func.count()).select_from(LeaderboardEntry).where(*board_query.conditions(query))
    )
    return LeaderboardPage(
        suite=suite.name,
        data=query.data,
        comparable=query.data == "hub",
        data_note=DATA_NOTES[query.data],
        view=query.view if suite.has_normalized else "normalized",
        query=query.filter_params(),
        total=total or 0,
        limit=query.limit,
        next_after=next_after,
        benchmarks=benchmark_columns(suite, judge_columns.column_judges(session, suite, query.data)),
        rows=rows,
    )


def all_rows(session: Session, query: BoardQuery, suite: Suite) -> Iterator[LeaderboardRow]:
    """Every row the filters match, in the view's order, read a keyset batch at a time (exports)."""
    batch = BoardQuery(**{**vars(query), "limit": EXPORT_BATCH, "after": query.after})
    while True:
        rows, batch.after = _page(session, batch, suite)
        yield from rows
        if batch.after is None:
            return


def board_sizes(session: Session, suite: Suite) -> dict[str, int]:
    """Models on each data board of the suite (the page's hub / sample-data switch)."""
    counts = dict(
        session.execute(
            select(LeaderboardEntry.board, func.count())
            .where(LeaderboardEntry.suite == suite.name)
            .group_by(LeaderboardEntry.board)
        ).all()
    )
    return {board: int(counts.get(board, 0)) for board in ("hub", "bundled")}


def scatter_rows(
    session: Session, query: BoardQuery, suite: Suite, limit: int = 300
) -> list[tuple[int, str, float, float]]:
    """(model id, name, params in billions, average) of the view's best `limit` models with a known size
    and a complete run: the score-vs-size chart. Capped so the page never carries the whole board."""
    average = (
        LeaderboardEntry.average_raw
        if query.view == "raw" and suite.has_normalized
        else LeaderboardEntry.average
    )
    statement = select(
        LeaderboardEntry.model_id, LeaderboardEntry.name, LeaderboardEntry.params_b, average
    ).where(*board_query.conditions(query), LeaderboardEntry.params_b > 0, average.is_not(None))
    return [
        (model_id, name, float(params or 0), float(score or 0))
        for model_id, name, params, score in session.execute(
            statement.order_by(average.desc(), LeaderboardEntry.model_id).limit(limit)
        )
    ]


def standings(session: Session, model_id: int) -> list[BoardStanding]:
    """The model's rows on every board, with their bootstrap figures (the model page and its API)."""
    entries = session.scalars(
        select(LeaderboardEntry)
        .where(LeaderboardEntry.model_id == model_id)
        .order_by(LeaderboardEntry.suite, LeaderboardEntry.board)
    )
    fields = BoardStanding.model_fields
    return [BoardStanding(**{name: getattr(entry, name) for name in fields}) for entry in entries]


def benchmark_columns(suite: Suite, judges: dict[str, str | None] | None = None) -> list[BenchmarkColumn]:
    """The suite's columns; `judges`: each judged column's judge on the board (judge_columns.py)."""
    return [
        BenchmarkColumn(
            name=s.name,
            display_en=s.display_en,
            display_ko=s.display_ko,
            metric=s.primary_metric,
            normalized=s.normalized,
            judge=(judges or {}).get(s.name),
        )
        for s in suite.benchmarks
    ]


def _page(session: Session, query: BoardQuery, suite: Suite) -> tuple[list[LeaderboardRow], str | None]:
    key = board_query.sort_key(query, suite).label("cursor_value")
    statement = select(LeaderboardEntry, key).where(
        *board_query.conditions(query), board_query.after_condition(query, suite)
    )
    found = session.execute(board_query.ordered(statement, query, suite).limit(query.limit + 1)).all()
    rows = [_row(entry) for entry, _ in found[: query.limit]]
    lineage.attach(session, rows, query.suite, query.data)
    next_after = None
    if len(found) > query.limit:
        last_entry, last_key = found[query.limit - 1]
        next_after = board_query.encode_cursor(last_key, last_entry.model_id)
    return rows, next_after


def _scores(entry: LeaderboardEntry) -> dict[str, Score]:
    """The cells, each with its pairwise figure against the next rank (kept apart in pair_stats: the
    bootstrap rewrites it when a neighbour changes, without touching the scores)."""
    pairs = entry.pair_stats or {}
    cells = {}
    for name, score in (entry.scores or {}).items():
        p = pairs.get(name)
        cells[name] = Score(**score, p_above_next=p, tied_with_next=None if p is None else p < TIE_LEVEL)
    return cells


def _row(entry: LeaderboardEntry) -> LeaderboardRow:
    return LeaderboardRow(
        rank=entry.rank,
        model_id=entry.model_id,
        request_id=entry.request_id,
        model=entry.name,
        reference=entry.reference,
        kind=entry.kind,
        model_type=entry.model_type,
        precision=entry.precision,
        weight_type=entry.weight_type,
        params_b=entry.params_b,
        licence=entry.licence,
        flags=list(entry.flags or []),
        flag_reason=admin_flag_reason(list(entry.flags or [])),
        data_source=entry.data_source,
        average=entry.average,
        average_raw=entry.average_raw,
        ci_low=entry.ci_low,
        ci_high=entry.ci_high,
        rank_low=entry.rank_low,
        rank_high=entry.rank_high,
        p_above_next=entry.p_above_next,
        tied_with_next=entry.tied_with_next,
        scores=_scores(entry),
        submitted_at=entry.submitted_at,
        evaluated_at=entry.evaluated_at,
    )
