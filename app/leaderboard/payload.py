"""Each board row's display JSON, kept ready in leaderboard_entry.payload.

A board view used to load 50 ORM rows, build 50 pydantic rows of 12 score cells each and serialize
them again: most of a view's time. The row's JSON changes only when the row is rewritten or its
bootstrap figures are (both here, in the writing transaction), so it is rendered then, once, and a
view concatenates the stored texts. What moves without the row changing is left out and composed
per view from plain columns: the rank and its interval (a new model shifts every rank below it) and
the lineage (a re-evaluated base changes every delta built on it).

The payload holds exactly LeaderboardRow's fields but rank, rank_low, rank_high and lineage, with
the same values pydantic would give (tests compare the two on every row of a board).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import QUERY_CHUNK
from app.leaderboard import bulk
from app.leaderboard.entry_rows import ENTRY_TABLE
from app.leaderboard.ties import tied
from app.tables import LeaderboardEntry

# The columns a payload is rendered from.
COLUMNS = (
    "id", "model_id", "request_id", "name", "reference", "kind", "model_type", "precision", "weight_type",
    "params_b", "licence", "flags", "data_source", "average", "average_raw", "ci_low", "ci_high",
    "p_above_next", "tied_with_next", "scores", "pair_stats", "submitted_at", "evaluated_at",
)  # fmt: skip
SCORE_DEFAULTS: dict[str, Any] = {
    "value": None, "stderr": None, "n": None, "metric": "", "raw": None, "raw_stderr": None,
    "data": None, "judge": None, "judge_apart": False,
}  # fmt: skip


def render(row: Mapping[str, Any]) -> str:
    """The payload of one row, from its columns (COLUMNS)."""
    from app.leaderboard.entries import admin_flag_reason

    flags = list(row["flags"] or [])
    return orjson.dumps(
        {
            "model_id": row["model_id"],
            "request_id": row["request_id"],
            "model": row["name"],
            "reference": row["reference"],
            "kind": row["kind"],
            "model_type": row["model_type"],
            "precision": row["precision"],
            "weight_type": row["weight_type"],
            "params_b": row["params_b"],
            "licence": row["licence"],
            "flags": flags,
            "flag_reason": admin_flag_reason(flags),
            "data_source": row["data_source"],
            "average": row["average"],
            "average_raw": row["average_raw"],
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
            "p_above_next": row["p_above_next"],
            "tied_with_next": row["tied_with_next"],
            "scores": _cells(row["scores"] or {}, row["pair_stats"] or {}),
            "submitted_at": row["submitted_at"],
            "evaluated_at": row["evaluated_at"],
        }
    ).decode()


def _cells(scores: Mapping[str, Any], pairs: Mapping[str, float]) -> dict[str, Any]:
    """Each cell with its pairwise figure against the next rank (kept apart in pair_stats: the
    bootstrap rewrites it when a neighbour changes, without touching the scores)."""
    cells = {}
    for name, score in scores.items():
        p = pairs.get(name)
        cell = {key: score.get(key, default) for key, default in SCORE_DEFAULTS.items()}
        cell["p_above_next"] = p
        cell["tied_with_next"] = tied(p)
        cells[name] = cell
    return cells


def rendered(session: Session, entry_ids: Iterable[int]) -> dict[int, str]:
    """These rows' payloads rendered from their columns, by row id."""
    ordered = sorted(set(entry_ids))
    columns = [getattr(LeaderboardEntry, name) for name in COLUMNS]
    found: dict[int, str] = {}
    for start in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[start : start + QUERY_CHUNK]
        for row in session.execute(select(*columns).where(LeaderboardEntry.id.in_(chunk))):
            found[row.id] = render(dict(row._mapping))
    return found


def refresh(session: Session, entry_ids: Iterable[int]) -> None:
    """Render and store the payload of these rows (after they were written or their figures were)."""
    bulk.update_by_id(session, ENTRY_TABLE, "payload", rendered(session, entry_ids))


def row_json(
    rank: int, span_up: int | None, span_down: int | None, stored: str, lineage: bytes | None
) -> str:
    """A LeaderboardRow's JSON: the stored payload with the rank, its interval and the lineage."""
    low = "null" if span_up is None else str(rank - span_up)
    high = "null" if span_down is None else str(rank + span_down)
    tail = ',"lineage":' + ("null" if lineage is None else lineage.decode())
    return f'{{"rank":{rank},"rank_low":{low},"rank_high":{high},{stored[1:-1]}{tail}}}'
