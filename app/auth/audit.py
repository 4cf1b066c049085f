"""The audit log: every admin action and every change to someone's job, with before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.tables import AuditLog, User

COMMAND_LINE = "command line"  # the actor of changes made with the server's CLI


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    session.add(
        AuditLog(
            actor_id=actor.user_id if actor else None,
            actor_name=actor.name if actor else COMMAND_LINE,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=before,
            after=after,
            note=note,
        )
    )
    session.flush()


def entries(session: Session, *, limit: int = 100, before_id: int | None = None) -> list[AuditLog]:
    """Newest first; before_id pages back."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    return list(session.scalars(query))


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        row.id: row.name for row in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    }
