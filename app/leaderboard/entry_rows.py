"""What a board row holds, derived from a request's results: one builder for the per-request refresh
and for rebuild_all, which reads every request's results in a few set-based queries instead of a
handful of queries per model.

A row's scores are its request's primary results; on a data board only the benchmarks that ran on
that board's data are averaged (the others are cells without a value, "elsewhere"), and a judged
benchmark whose judge is not its column's is set apart (judge_columns.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.orm import Session

from app.db import QUERY_CHUNK
from app.leaderboard import bulk, judge_columns
from app.tables import BoardCell, BoardRank, LeaderboardEntry, LlmModel, Result
from benchmarks.datasources import data_board
from benchmarks.spec import Suite

# An administrator's flag reads like this among a row's flags (machine flags read "contaminated: ...").
ADMIN_FLAG_PREFIX = "flagged: "
ENTRY_TABLE = cast(Table, LeaderboardEntry.__table__)
CELL_TABLE = cast(Table, BoardCell.__table__)
RANK_TABLE = cast(Table, BoardRank.__table__)
PLACE_KEYS = ("rank", "rank_span_up", "rank_span_down")  # a row's keys that go to board_rank
# Rank order, in SQL over leaderboard_entry: by average, incomplete runs last, ties by model id.
# (rank_key below is the same order for rows not written yet; the board's best-first view reads it
# from the average index.)
RANK_ORDER = "average IS NULL, average DESC, model_id"


def rank_key(row: dict[str, Any]) -> tuple[bool, float, int]:
    return row["average"] is None, -(row["average"] or 0.0), row["model_id"]


@dataclass(frozen=True)
class LatestRequest:
    """The request a row shows: the model's latest finished one on this suite and data board."""

    id: int
    data_source: str | None
    finished_at: datetime | None


def board_flags(model: LlmModel) -> list[str]:
    """The model's flags as its board rows carry them: its own, then the administrator's reason."""
    flags = list(model.flags or [])
    if model.flag_reason:
        flags.append(ADMIN_FLAG_PREFIX + model.flag_reason)
    return flags


def kind_of(model: LlmModel) -> str:
    """The board's type: adapters are their own kind whatever the base model was."""
    return "adapter" if model.weight_type == "adapter" else model.model_type


def benchmark_source(provenance: dict[str, Any] | None, label: str | None) -> str:
    """Where a result's items came from. Results record it; without a record, a single-kind request
    label says it, and a mixed one counts as sample data (never rank unknown data as real)."""
    recorded = (provenance or {}).get("data_source")
    if recorded:
        return str(recorded)
    return label if label in ("hub", "private") else "bundled"


def _raw_wanted(suite: Suite) -> list[Any]:
    """The raw primary metric rows of normalized benchmarks (on the benchmark's own task row)."""
    return [
        and_(
            Result.benchmark == spec.name,
            Result.metric == spec.primary_metric,
            Result.task.in_(sorted({spec.task, spec.bundled_task or spec.task})),
        )
        for spec in suite.benchmarks
        if spec.normalized
    ]


# The three facts a board cell takes from a result's provenance (25 keys), read in SQL: reading and
# parsing every whole document made rebuilding a board of 10,000 models 0.4 s slower.
PROVENANCE_READ = (
    Result.provenance["data_source"].as_string(),
    Result.provenance[("judge", "judge_model")].as_string(),
    Result.provenance[("judge", "prompt_version")].as_string(),
)


def scores_of_requests(
    session: Session, suite: Suite, labels: dict[int, str | None]
) -> dict[int, dict[str, dict[str, Any]]]:
    """Each request's primary score per benchmark with the data it ran on ("data": hub, private or
    bundled); a normalized one carries its raw value too. `labels`: request id -> its data label."""
    raw_wanted = _raw_wanted(suite)
    ordered = sorted(labels)
    found: dict[int, dict[str, dict[str, Any]]] = {request_id: {} for request_id in ordered}
    primary_task: dict[tuple[int, str], str] = {}
    raw: dict[tuple[int, str, str], tuple[float, float | None]] = {}
    columns: list[Any] = [Result.request_id, Result.benchmark, Result.task, Result.metric, Result.value]
    columns += [Result.stderr, Result.n, Result.is_primary, *PROVENANCE_READ]
    for start in range(0, len(ordered), QUERY_CHUNK):
        rows = session.execute(
            select(*columns).where(
                Result.request_id.in_(ordered[start : start + QUERY_CHUNK]),
                or_(Result.is_primary.is_(True), *raw_wanted),
            )
        )
        for request_id, benchmark, task, metric, value, stderr, n, is_primary, *facts in rows:
            if not is_primary:
                raw[(request_id, benchmark, task)] = (value, stderr)
                continue
            found[request_id][benchmark] = {
                "value": value,
                "stderr": stderr,
                "n": n,
                "metric": metric,
                "raw": None,
                "raw_stderr": None,
                "data": benchmark_source({"data_source": facts[0]}, labels[request_id]),
                "judge": judge_columns.identity(
                    {"judge": {"judge_model": facts[1], "prompt_version": facts[2]}}
                ),
            }
            primary_task[(request_id, benchmark)] = task
    for (request_id, benchmark), task in primary_task.items():
        if (request_id, benchmark, task) in raw:
            cell = found[request_id][benchmark]
            cell["raw"], cell["raw_stderr"] = raw[(request_id, benchmark, task)]
    return found


def request_scores(
    session: Session, suite: Suite, request_id: int, label: str | None = None
) -> dict[str, dict[str, Any]]:
    """One request's scores (see scores_of_requests)."""
    return scores_of_requests(session, suite, {request_id: label})[request_id]


def entry_values(
    model: LlmModel,
    latest: LatestRequest,
    scores: dict[str, dict[str, Any]],
    suite: Suite,
    board: str,
    judges: dict[str, str | None],
) -> dict[str, Any] | None:
    """The leaderboard_entry row of this model's latest request on one data board; None when the
    request has nothing on this board (a mixed run's latest may be another request's board)."""
    here = {name: dict(cell) for name, cell in scores.items() if data_board(cell["data"]) == board}
    # Judged by another judge than its column's: shown, never averaged or ranked (judge_columns.py).
    apart = judge_columns.set_apart(here, judges)
    names = [spec.name for spec in suite.benchmarks]
    mine = [name for name in names if name in here and name not in apart]
    if not mine and not apart:
        return None
    complete = all(name in scores for name in names) and not apart
    average = average_raw = None
    if complete:
        average = sum(scores[n]["value"] for n in mine) / len(mine)
        if suite.has_normalized:
            raws = [scores[n]["raw"] if scores[n]["raw"] is not None else scores[n]["value"] for n in mine]
            average_raw = sum(raws) / len(raws)
    cells = {name: here[name] if name in here else _elsewhere(cell) for name, cell in scores.items()}
    for name in set(here) - set(mine):  # set apart: no value here either
        cells[name] = {**_elsewhere(here[name]), "judge_apart": True}
    flags = board_flags(model)
    return {
        "suite": suite.name,
        "board": board,
        "model_id": model.id,
        "request_id": latest.id,
        "rank": 0,
        "average": average,
        "average_raw": average_raw,
        "scores": cells,
        "name": model.name,
        "reference": model.reference,
        "kind": kind_of(model),
        "model_type": model.model_type,
        "precision": model.precision,
        "weight_type": model.weight_type,
        "params_b": model.params_b,
        "licence": model.licence,
        "flags": flags,
        "flagged": bool(flags),
        "data_source": latest.data_source,
        "submitted_at": model.submitted_at,
        "evaluated_at": latest.finished_at,
        "pair_stats": {},
    }


def _elsewhere(cell: dict[str, Any]) -> dict[str, Any]:
    """A benchmark that ran on the other board's data: shown as such, never averaged here."""
    return {**cell, "value": None, "stderr": None, "raw": None, "raw_stderr": None}


def insert_rows(session: Session, suite: str, board: str, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert one board's rows, their places (board_rank: `rank` and the rank spans in each row) and
    their sortable cells (multi-row INSERTs); returns the new rows' ids. The ids are read back in one
    query: RETURNING in a multi-row insert, matched back to its parameters, costs more than the insert
    itself."""
    if not rows:
        return []
    bulk.insert_rows(session, ENTRY_TABLE, [_without(row, PLACE_KEYS) for row in rows])
    entry = LeaderboardEntry
    model_ids = [row["model_id"] for row in rows]
    found: dict[int, int] = {}
    for start in range(0, len(model_ids), QUERY_CHUNK):
        chunk = model_ids[start : start + QUERY_CHUNK]
        where = (entry.suite == suite, entry.board == board, entry.model_id.in_(chunk))
        found.update(iter(session.execute(select(entry.model_id, entry.id).where(*where))))
    ids = [found[model_id] for model_id in model_ids]
    places = [
        {"entry_id": entry_id, **{key: row.get(key) for key in PLACE_KEYS}}
        for entry_id, row in zip(ids, rows, strict=True)
    ]
    bulk.insert_rows(session, RANK_TABLE, places)
    cells = [cell for entry_id, row in zip(ids, rows, strict=True) for cell in _cells(entry_id, row)]
    bulk.insert_rows(session, CELL_TABLE, cells)
    return ids


def _without(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in keys}


def _cells(entry_id: int, row: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for benchmark, cell in row["scores"].items():
        if cell.get("value") is None:
            continue
        raw = cell.get("raw")
        yield {
            "entry_id": entry_id,
            "benchmark": benchmark,
            "suite": row["suite"],
            "board": row["board"],
            "model_id": row["model_id"],
            "value": cell["value"],
            "raw_value": cell["value"] if raw is None else raw,
        }


def delete_rows(session: Session, *where: Any) -> None:
    """Board rows (their cells go with them: ON DELETE CASCADE on both databases)."""
    session.execute(delete(LeaderboardEntry).where(*where))
