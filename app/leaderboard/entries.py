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
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from app.leaderboard import judge_columns, rank_stats
from app.tables import BoardVersion, EvalRequest, LeaderboardEntry, LlmModel, RequestStatus, Result
from benchmarks.catalog import get_suite
from benchmarks.datasources import REAL_LABELS, SAMPLE_LABELS, data_board, request_boards
from benchmarks.spec import Suite

log = logging.getLogger(__name__)

DATA_BOARDS = ("hub", "bundled")
# How an administrator's flag reads among a row's flags (machine flags read "contaminated: ...").
ADMIN_FLAG_PREFIX = "flagged: "


def board_flags(model: LlmModel) -> list[str]:
    """The model's flags as its board rows carry them: its own, then the administrator's reason."""
    flags = list(model.flags or [])
    if model.flag_reason:
        flags.append(ADMIN_FLAG_PREFIX + model.flag_reason)
    return flags


def admin_flag_reason(flags: list[str]) -> str | None:
    """The administrator's reason among a row's flags (board_flags puts it last), if flagged."""
    for flag in reversed(flags):
        if flag.startswith(ADMIN_FLAG_PREFIX):
            return flag.removeprefix(ADMIN_FLAG_PREFIX)
    return None


def board_of(data_source: str | None) -> str:
    """The board a request is shown under first: the real-data one when any benchmark ran on real data."""
    return request_boards(data_source)[0]


def kind_of(model: LlmModel) -> str:
    """The board's type: adapters are their own kind whatever the base model was."""
    return "adapter" if model.weight_type == "adapter" else model.model_type


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
        rank_stats.update_neighbours(session, request.suite, board)  # only rows whose pair changed
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
        rank_stats.update_neighbours(session, suite, board, [model_id])
    bump_version(session)


def rebuild_all(session: Session, private_dir: Path | None = None) -> int:
    """Every board from the stored results (after the migration that added the index). Returns the
    number of rows written."""
    session.execute(delete(LeaderboardEntry))
    triples = {
        (model_id, suite, board)
        for model_id, suite, source in session.execute(
            select(EvalRequest.model_id, EvalRequest.suite, EvalRequest.data_source).where(
                EvalRequest.status == RequestStatus.FINISHED
            )
        )
        for board in request_boards(source)
    }
    for model_id, suite, board in sorted(triples):
        _rebuild(session, model_id, suite, board, private_dir)
    for suite, board in sorted({(suite, board) for _, suite, board in triples}):
        renumber(session, suite, board)
        rank_stats.update_neighbours(session, suite, board)  # fresh rows: every row's figures
    bump_version(session)
    return session.scalar(select(func.count()).select_from(LeaderboardEntry)) or 0


def bump_version(session: Session) -> None:
    session.execute(update(BoardVersion).where(BoardVersion.id == 1).values(version=BoardVersion.version + 1))


def board_version(session: Session) -> int:
    return int(session.scalar(select(BoardVersion.version).where(BoardVersion.id == 1)) or 0)


def renumber(session: Session, suite: str, board: str) -> None:
    """rank = position by average (incomplete runs last), ties by model id. Only changed rows are
    written. The same SQL runs on PostgreSQL and SQLite (>= 3.39: UPDATE FROM, IS DISTINCT FROM)."""
    session.execute(
        text(
            "UPDATE leaderboard_entry SET rank = ordered.position FROM ("
            " SELECT id, ROW_NUMBER() OVER (ORDER BY average IS NULL, average DESC, model_id) AS position"
            " FROM leaderboard_entry WHERE suite = :suite AND board = :board"
            ") AS ordered WHERE leaderboard_entry.id = ordered.id"
            " AND leaderboard_entry.rank IS DISTINCT FROM ordered.position"
        ),
        {"suite": suite, "board": board},
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
    session.execute(
        delete(LeaderboardEntry).where(
            LeaderboardEntry.model_id == model_id,
            LeaderboardEntry.suite == suite_name,
            LeaderboardEntry.board == board,
        )
    )
    latest = session.scalar(
        select(EvalRequest)
        .where(
            EvalRequest.model_id == model_id,
            EvalRequest.suite == suite_name,
            EvalRequest.status == RequestStatus.FINISHED,
            _board_filter(board),
        )
        .order_by(EvalRequest.id.desc())
        .limit(1)
    )
    model = session.get(LlmModel, model_id)
    if latest is None or model is None or model.hidden:  # hidden: off every board, results kept
        return
    try:
        suite = get_suite(suite_name, private_dir)
    except KeyError:
        # A suite no longer served (a removed private set), or a caller without the private dir.
        log.warning("no board row for request %s: suite %r is not served here", latest.id, suite_name)
        return
    scores = request_scores(session, suite, latest.id, latest.data_source)
    here = {name: cell for name, cell in scores.items() if _on_board(cell, board)}
    # Judged by another judge than its column's: shown, never averaged or ranked (judge_columns.py).
    apart = judge_columns.set_apart(here, judge_columns.column_judges(session, suite, board))
    mine = [name for name in (spec.name for spec in suite.benchmarks) if name in here and name not in apart]
    if not mine and not apart:  # a request with nothing on this board (a mixed run's latest may be another's)
        return
    complete = all(spec.name in scores for spec in suite.benchmarks) and not apart
    average = average_raw = None
    if complete:
        average = sum(scores[n]["value"] for n in mine) / len(mine)
        if suite.has_normalized:
            raws = [scores[n]["raw"] if scores[n]["raw"] is not None else scores[n]["value"] for n in mine]
            average_raw = sum(raws) / len(raws)
    scores = {name: cell if name in mine else _elsewhere(cell) for name, cell in scores.items()}
    flags = board_flags(model)
    session.add(
        LeaderboardEntry(
            suite=suite_name,
            board=board,
            model_id=model_id,
            request_id=latest.id,
            rank=0,
            average=average,
            average_raw=average_raw,
            scores=scores,
            name=model.name,
            reference=model.reference,
            kind=kind_of(model),
            model_type=model.model_type,
            precision=model.precision,
            weight_type=model.weight_type,
            params_b=model.params_b,
            licence=model.licence,
            flags=flags,
            flagged=bool(flags),
            data_source=latest.data_source,
            submitted_at=model.submitted_at,
            evaluated_at=latest.finished_at,
        )
    )
    session.flush()


def _on_board(cell: dict[str, Any] | None, board: str) -> bool:
    return cell is not None and data_board(cell["data"]) == board


def _elsewhere(cell: dict[str, Any]) -> dict[str, Any]:
    """A benchmark that ran on the other board's data: shown as such, never averaged here."""
    return {**cell, "value": None, "stderr": None, "raw": None, "raw_stderr": None}


def _benchmark_source(provenance: dict[str, Any] | None, label: str | None) -> str:
    """Where a result's items came from. Results record it; without a record, a single-kind request
    label says it, and a mixed one counts as sample data (never rank unknown data as real)."""
    recorded = (provenance or {}).get("data_source")
    if recorded:
        return str(recorded)
    return label if label in ("hub", "private") else "bundled"


def request_scores(
    session: Session, suite: Suite, request_id: int, label: str | None = None
) -> dict[str, dict[str, Any]]:
    """The request's primary score per benchmark with the data it ran on ("data": hub, private or
    bundled); a normalized one carries its raw value too (the raw primary metric on the benchmark's
    own task row, hub or bundled task)."""
    normalized = [spec for spec in suite.benchmarks if spec.normalized]
    raw_wanted = [
        and_(
            Result.benchmark == spec.name,
            Result.metric == spec.primary_metric,
            Result.task.in_(sorted({spec.task, spec.bundled_task or spec.task})),
        )
        for spec in normalized
    ]
    scores: dict[str, dict[str, Any]] = {}
    primary_task: dict[str, str] = {}
    raw: dict[tuple[str, str], tuple[float, float | None]] = {}
    for result in session.scalars(
        select(Result).where(Result.request_id == request_id, or_(Result.is_primary.is_(True), *raw_wanted))
    ):
        if result.is_primary:
            scores[result.benchmark] = {
                "value": result.value,
                "stderr": result.stderr,
                "n": result.n,
                "metric": result.metric,
                "raw": None,
                "raw_stderr": None,
                "data": _benchmark_source(result.provenance, label),
                "judge": judge_columns.identity(result.provenance),
            }
            primary_task[result.benchmark] = result.task
        else:
            raw[(result.benchmark, result.task)] = (result.value, result.stderr)
    for name, task in primary_task.items():
        if (name, task) in raw:
            scores[name]["raw"], scores[name]["raw_stderr"] = raw[(name, task)]
    return scores
