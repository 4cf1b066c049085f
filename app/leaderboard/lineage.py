"""Lineage on the board: an adapter's or delta's base model, the fine-tune job that made it, and
its change against the base on the same suite and data board (the base's latest finished run).

Read for the rows of one page only (two small IN queries), so the board's index stays a plain
table and a re-evaluated base changes every delta at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.leaderboard.schemas import RowLineage
from app.tables import FineTune, LeaderboardEntry, LlmModel


def of_rows(
    session: Session, rows: Sequence[Row[Any]], payloads: dict[int, str], suite: str, board: str
) -> dict[int, bytes]:
    """model id -> its RowLineage JSON, for the page's adapters and deltas (`rows`: page rows with
    id, model_id and weight_type; `payloads`: their stored JSON by row id)."""
    derived = {
        row.model_id: orjson.loads(payloads[row.id])
        for row in rows
        if row.weight_type in ("adapter", "delta")
    }
    if not derived:
        return {}
    bases: dict[int, str | None] = {}
    finetunes: dict[int, int] = {}
    for model_id, base_model, finetune_id in session.execute(
        select(LlmModel.id, LlmModel.base_model, FineTune.id)
        .outerjoin(FineTune, FineTune.tuned_model_id == LlmModel.id)
        .where(LlmModel.id.in_(sorted(derived)))
        .order_by(FineTune.id)
    ):
        bases[model_id] = base_model
        if finetune_id is not None:
            finetunes[model_id] = finetune_id
    base_rows = _base_rows(session, {reference for reference in bases.values() if reference}, suite, board)
    found = {}
    for model_id, row in derived.items():
        reference = bases.get(model_id)
        if reference:
            lineage = _lineage(row, reference, base_rows.get(reference), finetunes.get(model_id))
            found[model_id] = orjson.dumps(lineage.model_dump())
    return found


def _base_rows(session: Session, references: set[str], suite: str, board: str) -> dict[str, Row[Any]]:
    """Each base reference's oldest original-weights row on this board."""
    entry = LeaderboardEntry
    found: dict[str, Row[Any]] = {}
    if not references:
        return found
    for base in session.execute(
        select(entry.model_id, entry.reference, entry.name, entry.average, entry.scores)
        .where(
            entry.suite == suite,
            entry.board == board,
            entry.reference.in_(sorted(references)),
            entry.weight_type == "original",
        )
        .order_by(entry.model_id)
    ):
        found.setdefault(base.reference, base)
    return found


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
