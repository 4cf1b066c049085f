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
from typing import Any

import orjson
from sqlalchemy import Row, func, null, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.leaderboard import judge_columns, lineage, payload
from app.leaderboard import query as board_query
from app.leaderboard.memo import BoardMemo, BoundMemo
from app.leaderboard.query import BoardQuery
from app.leaderboard.schemas import BenchmarkColumn, BoardStanding, LeaderboardPage, LeaderboardRow
from app.tables import BoardCell, BoardRank, LeaderboardEntry
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


def leaderboard(
    session: Session, query: BoardQuery, suite: Suite, memo: BoardMemo | BoundMemo | None = None
) -> LeaderboardPage:
    """One page of the board as objects (the HTML page); the API sends leaderboard_json's bytes."""
    envelope, rows, next_after = _view(session, query, suite, memo)
    return LeaderboardPage(
        **envelope, next_after=next_after, rows=[LeaderboardRow.model_validate_json(row) for row in rows]
    )


def leaderboard_json(
    session: Session, query: BoardQuery, suite: Suite, memo: BoardMemo | BoundMemo | None = None
) -> bytes:
    """One page of the board as LeaderboardPage JSON: the stored row payloads, concatenated."""
    envelope, rows, next_after = _view(session, query, suite, memo)
    head = orjson.dumps({**envelope, "next_after": next_after})
    return head[:-1] + b',"rows":[' + ",".join(rows).encode() + b"]}"


def _view(
    session: Session, query: BoardQuery, suite: Suite, memo: BoardMemo | BoundMemo | None
) -> tuple[dict[str, Any], list[str], str | None]:
    facts = _bound(memo, session)
    rows, next_after = _page(session, query, suite)
    where = board_query.conditions(query)
    total = facts.get(
        ("total", query.suite, query.data, filter_key(query)),
        lambda: session.scalar(select(func.count()).select_from(LeaderboardEntry).where(*where)) or 0,
    )
    judges = facts.get(
        ("judges", suite.name, query.data), lambda: judge_columns.column_judges(session, suite, query.data)
    )
    envelope = {
        "suite": suite.name,
        "data": query.data,
        "comparable": query.data == "hub",
        "data_note": DATA_NOTES[query.data],
        "view": query.view if suite.has_normalized else "normalized",
        "query": query.filter_params(),
        "total": total,
        "limit": query.limit,
        "benchmarks": [column.model_dump() for column in benchmark_columns(suite, judges)],
    }
    return envelope, rows, next_after


def _bound(memo: BoardMemo | BoundMemo | None, session: Session) -> BoundMemo:
    """One request's memo: a BoundMemo passed on reads the board version once for the whole view."""
    return memo if isinstance(memo, BoundMemo) else BoundMemo(memo, session)


def filter_key(query: BoardQuery) -> tuple[Any, ...]:
    """What the row count depends on: the filters and the search, not the sort, view or page."""
    return (
        tuple(sorted(query.kinds)), tuple(sorted(query.precisions)), tuple(sorted(query.sizes)),
        query.min_params, query.max_params, query.search, query.hide_flagged,
    )  # fmt: skip


def all_rows(session: Session, query: BoardQuery, suite: Suite) -> Iterator[LeaderboardRow]:
    """Every row the filters match, in the view's order, read a keyset batch at a time (exports)."""
    for row in all_row_json(session, query, suite):
        yield LeaderboardRow.model_validate_json(row)


def all_row_json(session: Session, query: BoardQuery, suite: Suite) -> Iterator[str]:
    """all_rows as each row's JSON (the JSON export streams them as they are)."""
    batch = BoardQuery(**{**vars(query), "limit": EXPORT_BATCH, "after": query.after})
    while True:
        rows, batch.after = _page(session, batch, suite)
        yield from rows
        if batch.after is None:
            return


def board_sizes(session: Session, suite: Suite, memo: BoardMemo | BoundMemo | None = None) -> dict[str, int]:
    """Models on each data board of the suite (the page's hub / sample-data switch)."""

    def count() -> dict[str, int]:
        counts = dict(
            session.execute(
                select(LeaderboardEntry.board, func.count())
                .where(LeaderboardEntry.suite == suite.name)
                .group_by(LeaderboardEntry.board)
            ).all()
        )
        return {board: int(counts.get(board, 0)) for board in ("hub", "bundled")}

    return _bound(memo, session).get(("sizes", suite.name), count)


def scatter_rows(
    session: Session,
    query: BoardQuery,
    suite: Suite,
    limit: int = 300,
    memo: BoardMemo | BoundMemo | None = None,
) -> list[tuple[int, str, float, float]]:
    """(model id, name, params in billions, average) of the view's best `limit` models with a known size
    and a complete run: the score-vs-size chart. Capped so the page never carries the whole board."""
    raw = query.view == "raw" and suite.has_normalized
    average = LeaderboardEntry.average_raw if raw else LeaderboardEntry.average
    statement = select(
        LeaderboardEntry.model_id, LeaderboardEntry.name, LeaderboardEntry.params_b, average
    ).where(*board_query.conditions(query), LeaderboardEntry.params_b > 0, average.is_not(None))

    def read() -> list[tuple[int, str, float, float]]:
        return [
            (model_id, name, float(params or 0), float(score or 0))
            for model_id, name, params, score in session.execute(
                statement.order_by(average.desc(), LeaderboardEntry.model_id).limit(limit)
            )
        ]

    return _bound(memo, session).get(("scatter", limit, *scatter_key(query, suite)), read)


def scatter_key(query: BoardQuery, suite: Suite) -> tuple[Any, ...]:
    """What the score-vs-size chart shows depends on: the board, the view's mean and the filters."""
    raw = query.view == "raw" and suite.has_normalized
    return (query.suite, query.data, raw, filter_key(query))


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


def _page(session: Session, query: BoardQuery, suite: Suite) -> tuple[list[str], str | None]:
    """The page's rows as JSON, and the cursor of the next page (None: the last page)."""
    if board_query.by_benchmark(query):
        found = _benchmark_page(session, query, suite)
    else:
        key = board_query.sort_key(query, suite).label("cursor_value")
        statement = _page_select(key).where(
            *board_query.conditions(query), board_query.after_condition(query, suite)
        )
        found = list(session.execute(board_query.ordered(statement, query, suite).limit(query.limit + 1)))
    shown = found[: query.limit]
    stored = _payloads(session, shown)
    lineages = lineage.of_rows(session, shown, stored, query.suite, query.data)
    rows = [
        payload.row_json(
            row.rank, row.rank_span_up, row.rank_span_down, stored[row.id], lineages.get(row.model_id)
        )
        for row in shown
    ]
    next_after = None
    if len(found) > query.limit:
        last = found[query.limit - 1]
        next_after = board_query.encode_cursor(last.cursor_value, last.model_id)
    return rows, next_after


PAGE_COLUMNS = (
    LeaderboardEntry.id, LeaderboardEntry.model_id, BoardRank.rank, BoardRank.rank_span_up,
    BoardRank.rank_span_down, LeaderboardEntry.weight_type, LeaderboardEntry.payload,
)  # fmt: skip
PLACED = BoardRank.entry_id == LeaderboardEntry.id  # each row's place: one primary-key lookup per row


def _page_select(*extra: Any) -> Any:
    return select(*PAGE_COLUMNS, *extra).join_from(LeaderboardEntry, BoardRank, PLACED)


def _benchmark_page(session: Session, query: BoardQuery, suite: Suite) -> list[Row[Any]]:
    """Sorted by a benchmark: the rows with a value on it in the order of its index on board_cell,
    then those without one (missing, run on the other board's data, or a benchmark added after the
    row was written) by model id. A cursor with no value is in that second part."""
    cell, entry = BoardCell, LeaderboardEntry
    wanted = query.limit + 1
    found: list[Row[Any]] = []
    after_value, after_id = board_query.decode_cursor(query.after) if query.after else (0.0, -1)
    if query.after is None or after_value is not None:
        key = board_query.cell_key(query, suite).label("cursor_value")
        statement = (
            _page_select(key)
            .join(cell, cell.entry_id == entry.id)
            .where(cell.suite == query.suite, cell.board == query.data, cell.benchmark == query.sort)
            .where(*board_query.conditions(query), board_query.after_condition(query, suite))
        )
        found = list(session.execute(board_query.ordered(statement, query, suite).limit(wanted)))
        after_id = -1
    if len(found) < wanted:
        has_value = (
            select(cell.entry_id).where(cell.entry_id == entry.id, cell.benchmark == query.sort).exists()
        )
        statement = (
            _page_select(null().label("cursor_value"))
            .where(*board_query.conditions(query), ~has_value, entry.model_id > after_id)
            .order_by(entry.model_id)
            .limit(wanted - len(found))
        )
        found += list(session.execute(statement))
    return found


def _payloads(session: Session, rows: list[Row[Any]]) -> dict[int, str]:
    """Each row's stored payload; a row written before payloads were stored gets one rendered now."""
    stored = {row.id: row.payload for row in rows if row.payload is not None}
    stored.update(payload.rendered(session, [row.id for row in rows if row.payload is None]))
    return stored
