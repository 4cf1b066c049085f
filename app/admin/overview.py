"""What the /admin page lists besides users, tokens and the audit log: the models an administrator
has flagged or hidden (the board leaves hidden ones out, so this is the one place to find them again)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.submissions.schemas import ModelOut
from app.submissions.service import models_out
from app.tables import LlmModel

MODERATED_SHOWN = 200


def moderated_models(session: Session, limit: int = MODERATED_SHOWN) -> list[ModelOut]:
    """Flagged by an administrator or hidden, newest first."""
    query = (
        select(LlmModel)
        .where(or_(LlmModel.flag_reason.is_not(None), LlmModel.hidden.is_(True)))
        .order_by(LlmModel.id.desc())
        .limit(limit)
    )
    return models_out(session, list(session.scalars(query)))
