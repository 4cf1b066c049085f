"""Lineage on the board: an adapter's or delta's base model, the fine-tune job that made it, and
its change against the base on the same suite and data board (the base's latest finished run).

Read for the rows of one page only (two small IN queries), so the board's index stays a plain
table and a re-evaluated base changes every delta at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Row, Select, String, and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app.leaderboard.schemas import RowLineage
from app.tables import FineTune, LeaderboardEntry, LlmModel


def of_rows(
    session: Session, rows: Sequence[Row[Any]], payloads: dict[int, str], suite: str, board: str
) -> dict[int, bytes]:
    """model id -> its RowLineage JSON, for the page's adapters and deltas (`rows`: page rows with
    id, model_id and weight_type; `payloads`: their stored JSON by row id). One query: each derived
    model's base reference, fine-tune job and base row."""
    derived = {
        row.model_id: orjson.loads(payloads[row.id])
        for row in rows
        if row.weight_type in ("adapter", "delta")
    }
    if not derived:
        return {}
    found = {}
    for model_id, reference, finetune_id, base in _bases(session, sorted(derived), suite, board):
        if reference:
            lineage = _lineage(derived[model_id], reference, base, finetune_id)
            found[model_id] = orjson.dumps(lineage.model_dump())
    return found


def _bases_statement() -> Select[Any]:
    """Each model's base reference, fine-tune job and the base's oldest original-weights row on the
    board. Built once: constructing it (an aliased entity, a correlated subquery) cost more than
    running it."""
    entry, base = LeaderboardEntry, aliased(LeaderboardEntry)
    suite, board = bindparam("suite", type_=String), bindparam("board", type_=String)
    oldest_base = (
        select(func.min(entry.model_id))
        .where(
            entry.suite == suite,
            entry.board == board,
            entry.reference == LlmModel.base_model,
            entry.weight_type == "original",
        )
        .correlate(LlmModel)
        .scalar_subquery()
    )
    return (
        select(
            LlmModel.id, LlmModel.base_model, FineTune.id, base.model_id, base.name, base.average, base.scores
        )
        .outerjoin(FineTune, FineTune.tuned_model_id == LlmModel.id)
        .outerjoin(base, and_(base.suite == suite, base.board == board, base.model_id == oldest_base))
        .where(LlmModel.id.in_(bindparam("ids", expanding=True)))
        .order_by(FineTune.id)
    )


BASES = _bases_statement()


def _bases(
    session: Session, model_ids: list[int], suite: str, board: str
) -> list[tuple[int, str | None, int | None, Row[Any] | None]]:
    """(model id, base reference, fine-tune job, the base's row or None) for each model; a model made
    by several jobs: the latest."""
    found: dict[int, tuple[int, str | None, int | None, Row[Any] | None]] = {}
    for row in session.execute(BASES, {"suite": suite, "board": board, "ids": model_ids}):
        base_row = row if row[3] is not None else None
        found[row[0]] = (row[0], row[1], row[2], base_row)  # ordered by job: the latest wins
    return list(found.values())


def _lineage(
    row: dict[str, Any], reference: str, base: Row[Any] | None, finetune_id: int | None
) -> RowLineage:
    delta = {}
    if base is not None:
        for name, score in row["scores"].items():
            base_value = (base.scores or {}).get(name, {}).get("value")
            if score["value"] is not None and base_value is not None:
                delta[name] = score["value"] - float(base_value)
    average = row["average"]
    return RowLineage(
        base_model=reference,
        base_model_id=base.model_id if base else None,
        base_name=base.name if base else None,
        finetune_id=finetune_id,
        delta_average=(
            average - base.average
            if base is not None and average is not None and base.average is not None
            else None
        ),
        delta=delta,
    )
