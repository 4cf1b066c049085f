"""Workers that die or are stopped mid-job: the job is neither lost nor run twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.tables import Job, Result
from tests.conftest import make_settings
from tests.e2e.procs import Proc, pid_alive, request_status, start_server, wait_for
from tests.e2e.test_end_to_end import SUBMISSION, check_real_scores, submit_over_http, wait_finished
from tests.support.auth import member_headers

pytestmark = pytest.mark.e2e


def _job(url: str) -> Job:
    with session_scope(url) as session:
        job = session.scalars(select(Job)).one()
        session.expunge(job)
        return job


def _evaluating(base_url: str, request_id: int) -> bool:
    """True once the child has loaded the model and is scoring a benchmark."""
    status = request_status(base_url, request_id)
    return status["status"] == "RUNNING" and status["current_task"] not in (None, "loading model")


def test_sigkilled_worker_job_returns_within_lease_and_finishes_exactly_once(
    tmp_path: Path, postgres_url: str, procs: list[Proc]
) -> None:
    lease = 6.0
    settings = make_settings(tmp_path, postgres_url, worker_lease_seconds=lease, worker_heartbeat_seconds=1.0)
    base_url, _ = start_server(settings, tmp_path, procs, "--no-local-worker")
    doomed = Proc(["worker"], settings, tmp_path / "doomed.log", EVALBOARD_WORKER_ID="doomed")
    procs.append(doomed)
    request_id = submit_over_http(base_url, postgres_url)
    wait_for(lambda: _evaluating(base_url, request_id), 180, "the first worker to start evaluating")
    children = doomed.children()
    assert children, "the worker runs each job in a child process"

    doomed.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    doomed.popen.wait(timeout=10)
    # The job's child dies with its worker instead of computing on as an orphan.
    wait_for(lambda: not any(pid_alive(pid) for pid in children), 15, "the orphaned job child to exit")

    rescuer = Proc(["worker"], settings, tmp_path / "rescuer.log", EVALBOARD_WORKER_ID="rescuer")
    procs.append(rescuer)

    def requeued_or_reclaimed() -> bool:
        job = _job(postgres_url)
        return job.locked_by == "rescuer" or (job.status == "queued" and job.attempts == 1)

    wait_for(requeued_or_reclaimed, lease + 20, "the reaper to return the job")
    assert time.monotonic() - killed_at < lease + 20

    request = wait_finished(base_url, request_id)
    assert request["worker"] == "rescuer" and request["attempts"] == 2
    job = _job(postgres_url)
    assert (job.status, job.attempts) == ("done", 2)
    assert job.last_error and "doomed stopped heartbeating" in job.last_error
    with session_scope(postgres_url) as session:
        rows = session.execute(
            select(Result.task, Result.metric, func.count()).group_by(Result.task, Result.metric)
        )
        assert all(n == 1 for _, _, n in rows)  # every metric stored exactly once
    check_real_scores(base_url, request, postgres_url)


def test_sigterm_releases_the_running_job_without_spending_an_attempt(
    tmp_path: Path, postgres_url: str, procs: list[Proc]
) -> None:
    settings = make_settings(
        tmp_path, postgres_url, worker_heartbeat_seconds=0.5, worker_shutdown_grace_seconds=0.0
    )
    base_url, _ = start_server(settings, tmp_path, procs, "--no-local-worker")
    worker = Proc(["worker"], settings, tmp_path / "worker.log")
    procs.append(worker)
    request_id = submit_over_http(base_url, postgres_url)
    wait_for(lambda: request_status(base_url, request_id)["status"] == "RUNNING", 60, "the job to start")
    children = worker.children()
    worker.signal(signal.SIGTERM)
    assert worker.popen.wait(timeout=30) == 0
    wait_for(lambda: not any(pid_alive(pid) for pid in children), 10, "the worker's children to exit")
    job = _job(postgres_url)
    assert (job.status, job.attempts, job.locked_by) == ("queued", 0, None)
    status = request_status(base_url, request_id)
    assert status["status"] == "PENDING" and "queued again" in (status["error"] or "")


def test_serve_demo_queues_the_bundled_model_once(tmp_path: Path, procs: list[Proc]) -> None:
    url = f"sqlite:///{tmp_path / 'evalboard.db'}"
    settings = make_settings(tmp_path, url, worker_shutdown_grace_seconds=0.0)
    base_url, server = start_server(settings, tmp_path, procs, "--demo")
    queued = httpx.get(f"{base_url}/api/v1/requests", timeout=10).json()
    assert [(r["model_reference"], r["suite"]) for r in queued] == [
        ("bundled:smollm2-135m-instruct", "smoke")
    ]
    duplicate = httpx.post(
        f"{base_url}/api/v1/models", json=SUBMISSION, headers=member_headers(url, "e2e-member"), timeout=30
    )
    assert duplicate.status_code == 409 and "already queued or running" in duplicate.json()["detail"]
    assert server.stop() is not None
    # Stopping the server released the job its local worker held: nothing lost.
    with session_scope(url) as session:
        assert session.scalar(select(Job.status)) == "queued"
