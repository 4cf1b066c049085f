"""GET /api/v1/queue, which the submit page polls: place in line, progress with an ETA, failures
with their reason and log tail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.config import Settings
from app.db import session_scope, utcnow
from app.runs import service as runs
from app.runs.queue_view import eta_seconds
from app.tables import EvalRequest
from tests.integration.test_api import submit
from tests.support.auth import admin_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def test_eta_is_elapsed_times_what_is_left_over_what_is_done() -> None:
    start = datetime(2026, 1, 1, 12, 0, 0)
    assert eta_seconds(0.25, start, start + timedelta(seconds=60)) == pytest.approx(180.0)
    assert eta_seconds(0.01, start, start + timedelta(seconds=60)) is None  # still loading: no guess
    assert eta_seconds(0.5, None, start) is None and eta_seconds(1.0, start, start) is None


def test_queue_lists_each_state_with_what_the_page_shows(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    ids = [
        submit(client, precision=p)[1]["request_ids"][0] for p in ("float32", "bfloat16", "float16", "8bit")
    ]
    with session_scope(url) as session:
        runs.mark_running(session, ids[0], "w1", 1)
        runs.record_progress(session, ids[0], progress=0.5, current_task="mmlu_en_mini", log_tail="")
        session.execute(
            update(EvalRequest)
            .where(EvalRequest.id == ids[0])
            .values(started_at=utcnow() - timedelta(seconds=100))
        )
        runs.mark_failed_or_pending(
            session, ids[3], error="weights not found", log_tail="x" * 10_000 + "END", final=True
        )
    queue = client.get("/api/v1/queue").json()
    (running,) = queue["running"]
    assert (running["id"], running["current_task"], running["progress"]) == (ids[0], "mmlu_en_mini", 0.5)
    assert running["eta_seconds"] == pytest.approx(100.0, abs=5.0)
    assert [(r["id"], r["position"]) for r in queue["pending"]] == [(ids[1], 1), (ids[2], 2)]
    (failed,) = queue["failed"]
    assert failed["error"] == "weights not found"
    assert failed["log_tail"].endswith("END") and len(failed["log_tail"]) == 4000  # the tail, capped
    assert queue["finished"] == []
    assert client.get("/api/v1/queue?limit=0").status_code == 422
