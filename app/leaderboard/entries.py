"""Keeping the board's index (leaderboard_entry) in step with finished requests.

`refresh` runs in the transaction that stores a request's results, so a reader never sees results
without their board row or the other way round. Each (suite, data board, model) keeps the model's
latest finished request there; ranks are renumbered for that board in one UPDATE.

Data boards are decided per benchmark: each result row records whether its benchmark ran on real
data (hub, private) or on the bundled sample. A request's row on the real-data board holds exactly
its real-data benchmarks and averages over them; its sample-data benchmarks are cells with no value
marked "bundled" there ("sample only"), and the other way round on the sample-data board. So a
partly real run ranks on the real board with its real benchmarks, and no sample score is ever
averaged with a real one.

An administrator's flag and hiding are model facts the rows copy too: a flag is one more entry in the
row's flags ("flagged: REASON"), so hide_flagged, the exports and the flag mark need nothing else; a
hidden model has no row at all (its results stay), so every board, export and rank leaves it out.
`refresh_model` re-derives a model's rows after either changes.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from app.db import QUERY_CHUNK
from app.leaderboard import bulk, entry_rows, judge_columns, payload
from app.leaderboard.entry_rows import ADMIN_FLAG_PREFIX
from app.tables import BoardVersion, EvalRequest, LeaderboardEntry, LlmModel, RequestStatus
from benchmarks.catalog import get_suite
from benchmarks.datasources import REAL_LABELS, SAMPLE_LABELS, request_boards

log = logging.getLogger(__name__)

DATA_BOARDS = ("hub", "bundled")
__all__ = ["ADMIN_FLAG_PREFIX", "DATA_BOARDS", "admin_flag_reason", "board_of", "rebuild_all", "refresh"]


def admin_flag_reason(flags: list[str]) -> str | None:
    """The administrator's reason among a row's flags (board_flags puts it last), if flagged."""
    for flag in reversed(flags):
        if flag.startswith(ADMIN_FLAG_PREFIX):
            return flag.removeprefix(ADMIN_FLAG_PREFIX)
    return None


def board_of(data_source: str | None) -> str:
    """The board a request is shown under first: the real-data one when any benchmark ran on real data."""
    return request_boards(data_source)[0]


def refresh(session: Session, request_id: int, private_dir: Path | None = None) -> None:
    """Re-derive the board row of this request's (suite, board, model) and renumber that board."""
    request = session.get(EvalRequest, request_id, populate_existing=True)  # after bulk UPDATEs
    if request is None:
        return
    for board in request_boards(request.data_source):  # DATA_BOARDS order: one lock order for all
        _lock_board(session, request.suite, board)
        # Usually this model's row; every row of the board when this run changed a judged column's judge.
        for model_id in judge_columns.models_to_rebuild(session, request, board, private_dir):
            _rebuild(session, model_id, request.suite, board, private_dir)
        renumber(session, request.suite, board)
        _refresh_figures(session, request.suite, board)  # only rows whose pair changed
    bump_version(session)


def refresh_model(session: Session, model_id: int, private_dir: Path | None = None) -> None:
    """Re-derive every board row of one model (each suite and data board it finished on, or has a row
    on) after its flag or visibility changed, renumber those boards and bump the version, so cached
    views are redrawn."""
    finished = session.execute(
        select(EvalRequest.suite, EvalRequest.data_source)
        .where(EvalRequest.model_id == model_id, EvalRequest.status == RequestStatus.FINISHED)
        .distinct()
    )
    boards = {(suite, board) for suite, source in finished for board in request_boards(source)}
    entry = LeaderboardEntry
    shown = session.execute(select(entry.suite, entry.board).where(entry.model_id == model_id))
    boards |= set(shown.tuples())
    for suite, board in sorted(boards):  # one lock order for every caller: no deadlock between them
        _lock_board(session, suite, board)
        _rebuild(session, model_id, suite, board, private_dir)
        renumber(session, suite, board)
        _refresh_figures(session, suite, board, [model_id])
    bump_version(session)


def rebuild_all(session: Session, private_dir: Path | None = None) -> int:
    """Every board from the stored results (after the migration that added the index, or to repair
    it): set-based, a few queries for all models at once. Returns the number of rows written; logs
    where the time went.

    Built for the first time (the index is empty), the rows go into tables without their plain
    indexes and foreign keys, which are made again once at the end (bulk.indexed_after_load). A
    repair of a board in use keeps them, so that its readers see the old rows until the commit."""
    phases = _Phases()
    first_build = session.scalar(select(LeaderboardEntry.id).limit(1)) is None
    entry_rows.delete_rows(session)
    latest = _latest_requests(session)
    models = _models(session, {model_id for model_id, _, _ in latest})
    phases.mark("delete and read requests")
    written = 0
    loading = bulk.indexed_after_load(session, BOARD_TABLES) if first_build else nullcontext()
    with loading:
        for suite_name, board in sorted({(suite, board) for _, suite, board in latest}):
            chosen = {key: request for key, request in latest.items() if key[1:] == (suite_name, board)}
            written += _rebuild_board(session, suite_name, board, chosen, models, private_dir, phases)
    phases.mark("indexes and foreign keys")
    bump_version(session)
    log.info("rebuild_all: %d board rows in %s", written, phases)
    return written


BOARD_TABLES = ("leaderboard_entry", "board_rank", "board_cell")


def _rebuild_board(
    session: Session,
    suite_name: str,
    board: str,
    chosen: dict[tuple[int, str, str], entry_rows.LatestRequest],
    models: dict[int, LlmModel],
    private_dir: Path | None,
    phases: _Phases,
) -> int:
    """One board's rows from its models' latest requests (`chosen`); returns how many were written."""
    _lock_board(session, suite_name, board)
    try:
        suite = get_suite(suite_name, private_dir)
    except KeyError:
        log.warning("no board rows for suite %r: it is not served here", suite_name)
        return 0
    labels = {request.id: request.data_source for request in chosen.values()}
    scores = entry_rows.scores_of_requests(session, suite, labels)
    judges = judge_columns.column_judges(session, suite, board)
    rows = []
    for (model_id, _, _), request in sorted(chosen.items()):
        model = models.get(model_id)
        if model is None or model.hidden:  # hidden: off every board, results kept
            continue
        values = entry_rows.entry_values(model, request, scores[request.id], suite, board, judges)
        if values is not None:
            rows.append(values)
    phases.mark("read results")
    # Ranked, given their bootstrap figures and rendered before the insert: each row is written
    # once, complete (in renumber's order, with what update_neighbours and payload.refresh
    # would write after).
    rows.sort(key=entry_rows.rank_key)
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    from app.leaderboard import rank_stats  # numpy: loaded when a board is written, never at start-up

    rank_stats.figures_of_new_rows(session, suite_name, board, rows)
    phases.mark("bootstrap")
    for row in rows:
        row["payload"] = payload.render(row)
    phases.mark("payloads")
    ids = entry_rows.insert_rows(session, suite_name, board, rows)
    phases.mark("insert rows, places and cells")
    rank_stats.update_intervals(session, suite_name, board)
    phases.mark("rank intervals")
    return len(ids)


class _Phases:
    """Seconds spent per phase of a long operation, for its log line."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] += now - self._last
        self._last = now

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in self.seconds.items())
        return f"{sum(self.seconds.values()):.2f} s ({parts})"


def _latest_requests(session: Session) -> dict[tuple[int, str, str], entry_rows.LatestRequest]:
    """(model, suite, data board) -> the model's latest finished request that can show there."""
    latest: dict[tuple[int, str, str], entry_rows.LatestRequest] = {}
    finished = session.execute(
        select(
            EvalRequest.id, EvalRequest.model_id, EvalRequest.suite, EvalRequest.data_source,
            EvalRequest.finished_at,
        )
        .where(EvalRequest.status == RequestStatus.FINISHED)
        .order_by(EvalRequest.id)
    )  # fmt: skip
    for request_id, model_id, suite, source, finished_at in finished:
        for board in request_boards(source):
            latest[(model_id, suite, board)] = entry_rows.LatestRequest(request_id, source, finished_at)
    return latest


def _models(session: Session, model_ids: set[int]) -> dict[int, LlmModel]:
    ordered = sorted(model_ids)
    found: dict[int, LlmModel] = {}
    for start in range(0, len(ordered), QUERY_CHUNK):
        for model in session.scalars(
            select(LlmModel).where(LlmModel.id.in_(ordered[start : start + QUERY_CHUNK]))
        ):
            found[model.id] = model
    return found


def _refresh_figures(session: Session, suite: str, board: str, changed: list[int] | None = None) -> None:
    """The bootstrap figures of the rows that changed or whose next row did, then their payloads."""
    from app.leaderboard import rank_stats  # numpy: loaded when a board is written, never at start-up

    payload.refresh(session, rank_stats.update_neighbours(session, suite, board, changed or []))


def bump_version(session: Session) -> None:
    session.execute(update(BoardVersion).where(BoardVersion.id == 1).values(version=BoardVersion.version + 1))


def board_version(session: Session) -> int:
    return int(session.scalar(select(BoardVersion.version).where(BoardVersion.id == 1)) or 0)


def renumber(session: Session, suite: str, board: str) -> None:
    """rank = position by average (incomplete runs last), ties by model id. Only changed places are
    written (board_rank). The same SQL runs on PostgreSQL and SQLite (>= 3.39: UPDATE FROM, IS
    DISTINCT FROM)."""
    session.execute(RENUMBER, {"suite": suite, "board": board})


RENUMBER = text(
    "UPDATE board_rank SET rank = ordered.position FROM ("
    f" SELECT id, ROW_NUMBER() OVER (ORDER BY {entry_rows.RANK_ORDER}) AS position"
    " FROM leaderboard_entry WHERE suite = :suite AND board = :board"
    ") AS ordered WHERE board_rank.entry_id = ordered.id"
    " AND board_rank.rank IS DISTINCT FROM ordered.position"
)


def _lock_board(session: Session, suite: str, board: str) -> None:
    """Two workers finishing on one board at once would renumber the same rows in different orders
    and deadlock; PostgreSQL serializes them on a transaction lock. (SQLite has one writer anyway.)"""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"leaderboard:{suite}:{board}".encode()) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _board_filter(board: str) -> Any:
    """Requests that can have benchmarks on this board (their label says which kinds they ran)."""
    if board == "hub":
        return EvalRequest.data_source.in_(REAL_LABELS)
    return or_(EvalRequest.data_source.is_(None), EvalRequest.data_source.in_(SAMPLE_LABELS))


def _rebuild(session: Session, model_id: int, suite_name: str, board: str, private_dir: Path | None) -> None:
    entry = LeaderboardEntry
    entry_rows.delete_rows(
        session, entry.model_id == model_id, entry.suite == suite_name, entry.board == board
    )
    latest = session.execute(
        select(EvalRequest.id, EvalRequest.data_source, EvalRequest.finished_at)
        .where(
            EvalRequest.model_id == model_id,
            EvalRequest.suite == suite_name,
            EvalRequest.status == RequestStatus.FINISHED,
            _board_filter(board),
        )
        .order_by(EvalRequest.id.desc())
        .limit(1)
    ).first()
    model = session.get(LlmModel, model_id)
    if latest is None or model is None or model.hidden:  # hidden: off every board, results kept
        return
    try:
        suite = get_suite(suite_name, private_dir)
    except KeyError:
        # A suite no longer served (a removed private set), or a caller without the private dir.
        log.warning("no board row for request %s: suite %r is not served here", latest.id, suite_name)
        return
    request = entry_rows.LatestRequest(*latest)
    scores = entry_rows.request_scores(session, suite, request.id, request.data_source)
    judges = judge_columns.column_judges(session, suite, board)
    values = entry_rows.entry_values(model, request, scores, suite, board, judges)
    if values is not None:
        entry_rows.insert_rows(session, suite_name, board, [values])
