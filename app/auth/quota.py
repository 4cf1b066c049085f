"""The weekly submission quota: evaluation requests a member may create in a rolling 7 days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.tables import User
from app.config import Settings
from app.db import utcnow
from app.errors import TooManyRequests
from app.tables import EvalRequest

WINDOW = timedelta(days=7)


def check_weekly_quota(session: Session, settings: Settings, caller: Principal, new_requests: int) -> None:
    """429 with Retry-After when these new requests would pass EVALBOARD_SUBMISSIONS_PER_WEEK.
    Admins are exempt. On PostgreSQL the caller's row is locked first, so two concurrent submissions
    by one person cannot both squeeze under the limit."""
    if caller.is_admin:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User.id).where(User.id == caller.user_id).with_for_update())
    now = utcnow()
    recent = list(
        session.scalars(
            select(EvalRequest.created_at)
            .where(EvalRequest.submitted_by == caller.user_id, EvalRequest.created_at > now - WINDOW)
            .order_by(EvalRequest.created_at)
        )
    )
    limit = settings.submissions_per_week
    over = len(recent) + new_requests - limit
    if over <= 0:
        return
    if new_requests > limit:
        raise TooManyRequests(
            f"{new_requests} suites at once is more than this server's weekly limit of {limit} evaluation "
            "requests; submit fewer suites",
            retry_after=int(WINDOW.total_seconds()),
            field="suites",
        )
    allowed_at = recent[over - 1] + WINDOW
    wait = (allowed_at - now).total_seconds()
    raise TooManyRequests(
        f"weekly limit reached: you created {len(recent)} of {limit} evaluation requests in the last 7 "
        f"days (EVALBOARD_SUBMISSIONS_PER_WEEK); the next {new_requests} can be submitted from "
        f"{allowed_at:%Y-%m-%d %H:%M} UTC",
        retry_after=int(wait) + 1,
    )
