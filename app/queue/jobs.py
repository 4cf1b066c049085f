"""Queue operations. Every state change is one UPDATE guarded by the expected state, so two
workers (or a worker and the reaper) can never both win: the loser's UPDATE matches no row.

Claiming on PostgreSQL uses FOR UPDATE SKIP LOCKED in the sub-select, so concurrent workers skip
each other's rows instead of queueing behind them. SQLite ignores FOR UPDATE; its single writer
makes the same statement atomic, which is all one local worker needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, Update, and_, select, text, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.tables import Job, JobStatus

NOTIFY_CHANNEL = "evalboard_jobs"


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    request_id: int | None
    payload: dict[str, Any]
    attempt: int  # the fencing token: only the holder of this attempt may finish the job
    max_attempts: int


def _changed(session: Session, statement: Update) -> int:
    """Run a guarded UPDATE; the number of rows it matched says whether the guard held."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def enqueue(
    session: Session,
    *,
    kind: str,
    request_id: int | None,
    payload: dict[str, Any] | None = None,
    priority: int = 0,
    max_attempts: int = 3,
) -> Job:
    job = Job(
        kind=kind,
        request_id=request_id,
        payload=payload or {},
        priority=priority,
        max_attempts=max_attempts,
        status=JobStatus.QUEUED,
        run_after=utcnow(),
    )
    session.add(job)
    session.flush()
    notify(session)
    return job


def notify(session: Session) -> None:
    """Wake listening workers. PostgreSQL delivers the notification when the transaction commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


def claim(session: Session, worker_id: str) -> ClaimedJob | None:
    now = utcnow()
    candidate = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.run_after <= now)
        .order_by(Job.priority.desc(), Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = session.execute(
        update(Job)
        .where(Job.id == candidate, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            locked_by=worker_id,
            locked_at=now,
            heartbeat_at=now,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.request_id, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        request_id=row.request_id,
        payload=dict(row.payload or {}),
        attempt=row.attempts,
        max_attempts=row.max_attempts,
    )


def _held(job: ClaimedJob, worker_id: str) -> Any:
    return and_(
        Job.id == job.id,
        Job.status == JobStatus.RUNNING,
        Job.locked_by == worker_id,
        Job.attempts == job.attempt,
    )


def heartbeat(session: Session, job: ClaimedJob, worker_id: str) -> str | None:
    """Extend the lease. Returns the job's status if we still hold it, else None (lost or cancelled)."""
    if _changed(session, update(Job).where(_held(job, worker_id)).values(heartbeat_at=utcnow())):
        return JobStatus.RUNNING
    return session.scalar(select(Job.status).where(Job.id == job.id))


def complete(session: Session, job: ClaimedJob, worker_id: str) -> bool:
    """Mark done only if this worker still holds this attempt. False: the lease was lost."""
    done = (
        update(Job)
        .where(_held(job, worker_id))
        .values(status=JobStatus.DONE, finished_at=utcnow(), locked_by=None)
    )
    return bool(_changed(session, done))


def backoff(attempt: int, base_seconds: float) -> timedelta:
    """Exponential: base, 2*base, 4*base ... capped at one hour."""
    return timedelta(seconds=min(base_seconds * (2 ** max(attempt - 1, 0)), 3600.0))


def fail(
    session: Session, job: ClaimedJob, worker_id: str, error: str, *, retry: bool, backoff_seconds: float
) -> str | None:
    """Record a failed attempt: back to the queue after a backoff, or failed for good.

    Returns the job's new status, or None if this worker no longer held it.
    """
    will_retry = retry and job.attempt < job.max_attempts
    values: dict[str, Any] = {"last_error": error, "locked_by": None}
    if will_retry:
        values.update(status=JobStatus.QUEUED, run_after=utcnow() + backoff(job.attempt, backoff_seconds))
    else:
        values.update(status=JobStatus.FAILED, finished_at=utcnow())
    if not _changed(session, update(Job).where(_held(job, worker_id)).values(**values)):
        return None
    if will_retry:
        notify(session)
    return str(values["status"])


def release(session: Session, job: ClaimedJob, worker_id: str, reason: str) -> bool:
    """Give a job back untouched (worker shutting down): the attempt does not count."""
    released = _changed(
        session,
        update(Job)
        .where(_held(job, worker_id))
        .values(status=JobStatus.QUEUED, locked_by=None, attempts=Job.attempts - 1, last_error=reason),
    )
    if released:
        notify(session)
    return bool(released)


@dataclass(frozen=True)
class ReapedJob:
    id: int
    request_id: int | None
    requeued: bool
    reason: str


def reap(session: Session, lease_seconds: float, backoff_seconds: float) -> list[ReapedJob]:
    """Return jobs whose worker stopped heartbeating to the queue, or fail them after max_attempts."""
    now = utcnow()
    deadline = now - timedelta(seconds=lease_seconds)
    stale = session.execute(
        select(Job.id, Job.request_id, Job.locked_by, Job.attempts, Job.max_attempts)
        .where(Job.status == JobStatus.RUNNING, Job.heartbeat_at < deadline)
        .with_for_update(skip_locked=True)
    ).all()
    reaped: list[ReapedJob] = []
    for row in stale:
        reason = (
            f"worker {row.locked_by} stopped heartbeating (lease {lease_seconds:g}s expired) "
            f"during attempt {row.attempts} of {row.max_attempts}"
        )
        requeue = row.attempts < row.max_attempts
        values: dict[str, Any] = {"locked_by": None}
        if requeue:
            values.update(status=JobStatus.QUEUED, run_after=now + backoff(row.attempts, backoff_seconds))
        else:
            values.update(status=JobStatus.FAILED, finished_at=now)
            reason += "; no attempts left"
        values["last_error"] = reason
        # Guarded by the same stale condition: a heartbeat that lands first wins.
        still_stale = and_(Job.id == row.id, Job.status == JobStatus.RUNNING, Job.heartbeat_at < deadline)
        if _changed(session, update(Job).where(still_stale).values(**values)):
            reaped.append(ReapedJob(row.id, row.request_id, requeue, reason))
    if any(job.requeued for job in reaped):
        notify(session)
    return reaped


def cancel(session: Session, job_id: int) -> bool:
    """Cancel a queued or running job. A running job's worker sees it at its next heartbeat."""
    cancelled = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), locked_by=None)
    )
    return bool(_changed(session, cancelled))
