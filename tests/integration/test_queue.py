"""The job queue on both databases: claim, heartbeat, fencing, reaper, cancel, release."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update

from app.db import session_scope, utcnow
from app.queue import jobs
from app.tables import Job, JobStatus


def _enqueue(url: str, n: int = 1, **kwargs: object) -> list[int]:
    with session_scope(url) as session:
        return [jobs.enqueue(session, kind="eval", request_id=None, **kwargs).id for _ in range(n)]  # type: ignore[arg-type]


def _job(url: str, job_id: int) -> Job:
    with session_scope(url) as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_claim_takes_highest_priority_then_oldest(database_url: str) -> None:
    low = _enqueue(database_url)[0]
    high = _enqueue(database_url, priority=5)[0]
    with session_scope(database_url) as session:
        first = jobs.claim(session, "w1")
        second = jobs.claim(session, "w1")
        third = jobs.claim(session, "w1")
    assert first is not None and second is not None
    assert (first.id, second.id) == (high, low)
    assert third is None
    assert first.attempt == 1
    assert _job(database_url, high).locked_by == "w1"


def test_claim_skips_jobs_waiting_for_backoff(database_url: str) -> None:
    job_id = _enqueue(database_url)[0]
    with session_scope(database_url) as session:
        session.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow() + timedelta(hours=1)))
    with session_scope(database_url) as session:
        assert jobs.claim(session, "w1") is None


def test_concurrent_claims_never_share_a_job(database_url: str) -> None:
    ids = _enqueue(database_url, 30)
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while True:
            with session_scope(database_url) as session:
                job = jobs.claim(session, name)
            if job is None:
                return
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claimed) == sorted(ids)  # every job once, none twice


def test_heartbeat_and_complete_are_fenced_by_worker_and_attempt(database_url: str) -> None:
    job_id = _enqueue(database_url)[0]
    with session_scope(database_url) as session:
        claimed = jobs.claim(session, "w1")
    assert claimed is not None and claimed.id == job_id
    with session_scope(database_url) as session:
        assert jobs.heartbeat(session, claimed, "w1") == JobStatus.RUNNING
        assert jobs.heartbeat(session, claimed, "w2") == JobStatus.RUNNING  # reports status, extends nothing
        assert not jobs.complete(session, claimed, "w2")
        assert jobs.complete(session, claimed, "w1")
    assert _job(database_url, job_id).status == JobStatus.DONE


def test_reaper_requeues_stale_jobs_then_fails_them_after_max_attempts(database_url: str) -> None:
    job_id = _enqueue(database_url, max_attempts=2)[0]
    for attempt in (1, 2):
        with session_scope(database_url) as session:
            claimed = jobs.claim(session, f"w{attempt}")
        assert claimed is not None and claimed.attempt == attempt
        with session_scope(database_url) as session:  # the worker goes silent
            session.execute(
                update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=120))
            )
        with session_scope(database_url) as session:
            reaped = jobs.reap(session, lease_seconds=60, backoff_seconds=0)
        assert [r.id for r in reaped] == [job_id]
        assert "stopped heartbeating" in reaped[0].reason
        # The silent worker wakes up: it may no longer finish the job.
        with session_scope(database_url) as session:
            assert not jobs.complete(session, claimed, f"w{attempt}")
    job = _job(database_url, job_id)
    assert job.status == JobStatus.FAILED
    assert job.last_error and "no attempts left" in job.last_error


def test_reaper_leaves_live_jobs_alone(database_url: str) -> None:
    _enqueue(database_url)
    with session_scope(database_url) as session:
        assert jobs.claim(session, "w1") is not None
    with session_scope(database_url) as session:
        assert jobs.reap(session, lease_seconds=60, backoff_seconds=0) == []


def test_failed_attempt_backs_off_then_retries(database_url: str) -> None:
    job_id = _enqueue(database_url, max_attempts=3)[0]
    with session_scope(database_url) as session:
        claimed = jobs.claim(session, "w1")
    assert claimed is not None
    with session_scope(database_url) as session:
        assert jobs.fail(session, claimed, "w1", "boom", retry=True, backoff_seconds=3600) == JobStatus.QUEUED
    with session_scope(database_url) as session:
        assert jobs.claim(session, "w1") is None  # still backing off
    job = _job(database_url, job_id)
    assert job.last_error == "boom" and job.run_after > utcnow() + timedelta(minutes=50)


def test_permanent_failure_does_not_retry(database_url: str) -> None:
    job_id = _enqueue(database_url, max_attempts=3)[0]
    with session_scope(database_url) as session:
        claimed = jobs.claim(session, "w1")
        assert claimed is not None
        assert (
            jobs.fail(session, claimed, "w1", "bad model", retry=False, backoff_seconds=0) == JobStatus.FAILED
        )
    assert _job(database_url, job_id).status == JobStatus.FAILED


def test_cancel_running_job_is_seen_at_next_heartbeat(database_url: str) -> None:
    job_id = _enqueue(database_url)[0]
    with session_scope(database_url) as session:
        claimed = jobs.claim(session, "w1")
    assert claimed is not None
    with session_scope(database_url) as session:
        assert jobs.cancel(session, job_id)
        assert not jobs.cancel(session, job_id)  # already cancelled
    with session_scope(database_url) as session:
        assert jobs.heartbeat(session, claimed, "w1") == JobStatus.CANCELLED
        assert not jobs.complete(session, claimed, "w1")


def test_release_returns_the_job_without_spending_an_attempt(database_url: str) -> None:
    job_id = _enqueue(database_url)[0]
    with session_scope(database_url) as session:
        claimed = jobs.claim(session, "w1")
    assert claimed is not None
    with session_scope(database_url) as session:
        assert jobs.release(session, claimed, "w1", "shutdown")
    job = _job(database_url, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED, 0, None)


def test_postgres_listen_notify_wakes_a_waiting_worker(postgres_url: str) -> None:
    from app.queue.wakeup import PostgresWaiter

    waiter = PostgresWaiter(postgres_url)
    try:
        assert waiter.wait(0.1) is False
        threading.Timer(0.3, lambda: _enqueue(postgres_url)).start()
        started = time.monotonic()
        assert waiter.wait(10) is True
        assert time.monotonic() - started < 5
    finally:
        waiter.close()
    with session_scope(postgres_url) as session:
        assert session.scalar(select(Job.status)) == JobStatus.QUEUED
