"""Lineage on the board: an adapter's or delta's base model, the fine-tune job that made it, and
its change against the base on the same suite and data board (the base's latest finished run).

Read for the rows of one page only (three small IN queries), so the board's index stays a plain
table and a re-evaluated base changes every delta at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.leaderboard.schemas import LeaderboardRow, RowLineage
from app.tables import FineTune, LeaderboardEntry, LlmModel


def attach(session: Session, rows: list[LeaderboardRow], suite: str, board: str) -> None:
    derived = [row for row in rows if row.weight_type in ("adapter", "delta")]
    if not derived:
        return
    ids = [row.model_id for row in derived]
    bases = {
        model_id: base
        for model_id, base in session.execute(
            select(LlmModel.id, LlmModel.base_model).where(LlmModel.id.in_(ids))
        )
    }
    finetunes = {
        model_id: finetune_id
        for model_id, finetune_id in session.execute(
            select(FineTune.tuned_model_id, FineTune.id).where(FineTune.tuned_model_id.in_(ids))
        )
    }
    references = {reference for reference in bases.values() if reference}
    base_entries: dict[str, LeaderboardEntry] = {}
    for entry in session.scalars(
        select(LeaderboardEntry)
        .where(
            LeaderboardEntry.suite == suite,
            LeaderboardEntry.board == board,
            LeaderboardEntry.reference.in_(references),
            LeaderboardEntry.weight_type == "original",
        )
        .order_by(LeaderboardEntry.model_id)
    ):
        base_entries.setdefault(entry.reference, entry)  # the oldest row of that reference
    for row in derived:
        reference = bases.get(row.model_id)
        if not reference:
            continue
        base = base_entries.get(reference)
        delta = {}
        if base is not None:
            for name, score in row.scores.items():
                base_value = (base.scores or {}).get(name, {}).get("value")
                if score.value is not None and base_value is not None:
                    delta[name] = score.value - float(base_value)
        row.lineage = RowLineage(
            base_model=reference,
            base_model_id=base.model_id if base else None,
            base_name=base.name if base else None,
            finetune_id=finetunes.get(row.model_id),
            delta_average=(
                row.average - base.average
                if base is not None and row.average is not None and base.average is not None
                else None
            ),
            delta=delta,
        )
