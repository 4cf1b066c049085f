"""The weekly submission quota: evaluation requests and judge jobs (POST /api/v1/judge) a member
may create in a rolling 7 days, counted together: both spend the workers' (and the judge's) time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.tables import User
from app.config import Settings
from app.db import utcnow
from app.errors import TooManyRequests
from app.judging.items import JUDGE_JOB_KIND
from app.tables import EvalRequest, Job

WINDOW = timedelta(days=7)


def recent_submissions(session: Session, user_id: int, since: datetime) -> list[datetime]:
    """When the person's evaluation requests and judge jobs since `since` were created, oldest first.
    A judge job's submitter is in its payload (the job row is its only record)."""
    requests = session.scalars(
        select(EvalRequest.created_at).where(
            EvalRequest.submitted_by == user_id, EvalRequest.created_at > since
        )
    )
    judge_jobs = session.scalars(
        select(Job.created_at).where(
            Job.kind == JUDGE_JOB_KIND,
            Job.created_at > since,
            Job.payload["submitted_by"].as_integer() == user_id,
        )
    )
    return sorted([*requests, *judge_jobs])


def check_weekly_quota(
    session: Session, settings: Settings, caller: Principal, new_requests: int, *, field: str = "suites"
) -> None:
    """429 with Retry-After when these new requests (or a judge job: field "file") would pass
    EVALBOARD_SUBMISSIONS_PER_WEEK. Admins are exempt. On PostgreSQL the caller's row is locked
    first, so two concurrent submissions by one person cannot both squeeze under the limit."""
    if caller.is_admin:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User.id).where(User.id == caller.user_id).with_for_update())
    now = utcnow()
    recent = recent_submissions(session, caller.user_id, now - WINDOW)
    limit = settings.submissions_per_week
    over = len(recent) + new_requests - limit
    if over <= 0:
        return
    if new_requests > limit and field != "suites":
        raise TooManyRequests(
            f"this server's weekly limit is {limit} submissions (EVALBOARD_SUBMISSIONS_PER_WEEK), so no "
            "judge job can be queued; ask an administrator to raise it",
            retry_after=int(WINDOW.total_seconds()),
            field=field,
        )
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
        f"weekly limit reached: you created {len(recent)} of {limit} submissions (evaluation requests and "
        f"judge jobs) in the last 7 days (EVALBOARD_SUBMISSIONS_PER_WEEK); the next {new_requests} can be "
        f"submitted from {allowed_at:%Y-%m-%d %H:%M} UTC",
        retry_after=int(wait) + 1,
    )
