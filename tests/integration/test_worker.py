"""The worker loop with a real child process, on both databases: a model that cannot load fails
for good at once (no retries), with its reason and log tail in the API; cancellations stick."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.tables import ItemScore, Job
from app.worker.loop import Worker
from tests.support.auth import admin_client
from tests.unit.test_references import write_safetensors


def test_model_that_fails_to_load_ends_failed_with_reason_and_log_tail(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "broken-model"
    folder.mkdir()
    # Valid enough to pass submission checks; no transformers architecture is called this.
    (folder / "config.json").write_text(json.dumps({"model_type": "no-such-architecture"}))
    write_safetensors(folder / "model.safetensors", {"w": [4, 4]})
    with admin_client(settings) as client:
        response = client.post("/api/v1/models", json={"model": str(folder), "precision": "float32"})
        assert response.status_code == 201, response.text
        request_id = response.json()["request_ids"][0]

        outcome = Worker(settings).run_job(_claim(settings))
        assert outcome.kind == "failed"

        request = client.get(f"/api/v1/requests/{request_id}").json()
        assert request["status"] == "FAILED"
        assert "could not load" in request["error"] and str(folder) in request["error"]
        assert "no-such-architecture" in request["log_tail"]  # the traceback's last lines
        assert request["results"] == []
        assert [r["id"] for r in client.get("/api/v1/requests?status=FAILED").json()] == [request_id]
    with session_scope(settings.resolved_database_url) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.attempts) == ("failed", 1)  # a load error is not retried


def test_cancelled_request_is_not_run(settings: Settings) -> None:
    with admin_client(settings) as client:
        body = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
        request_id = client.post("/api/v1/models", json=body).json()["request_ids"][0]
        assert client.post(f"/api/v1/requests/{request_id}/cancel").json()["status"] == "CANCELLED"
    assert Worker(settings).claim() is None  # the cancelled job is not claimable


def _claim(settings: Settings):  # type: ignore[no-untyped-def]
    claimed = Worker(settings).claim()
    assert claimed is not None
    return claimed


def test_sqlite_allows_one_local_worker(tmp_path: Path) -> None:
    from app.worker.loop import WorkerAlreadyRunning, sqlite_worker_lock

    settings = Settings(home=tmp_path)
    with sqlite_worker_lock(settings):
        try:
            with sqlite_worker_lock(settings):
                raise AssertionError("a second SQLite worker must be refused")
        except WorkerAlreadyRunning as exc:
            assert "use PostgreSQL" in str(exc)
    with sqlite_worker_lock(settings):  # released when the first worker stopped
        pass
    postgres = Settings(home=tmp_path, database_url="postgresql+psycopg://x@127.0.0.1/y")
    with sqlite_worker_lock(postgres), sqlite_worker_lock(postgres):  # no limit on PostgreSQL
        pass


def test_attempt_over_the_time_limit_is_killed_and_retried(settings: Settings) -> None:
    slow = settings.model_copy(update={"worker_job_timeout_seconds": 1.0})
    with admin_client(slow) as client:
        body = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
        request_id = client.post("/api/v1/models", json=body).json()["request_ids"][0]
        outcome = Worker(slow).run_job(_claim(slow))
        assert outcome.kind == "failed"
        request = client.get(f"/api/v1/requests/{request_id}").json()
    assert request["status"] == "PENDING"  # back in the queue for attempt 2
    assert "attempt 1 of 3 failed, will retry: timed out after 1s" in request["error"]
    with session_scope(settings.resolved_database_url) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.attempts, job.locked_by) == ("queued", 1, None)


def test_finished_attempt_records_the_data_its_results_came_from(settings: Settings, tmp_path: Path) -> None:
    """_settle commits the child's outcome: metric rows and the request's data source label."""
    from app.worker import files

    with admin_client(settings) as client:
        body = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
        request_id = client.post("/api/v1/models", json=body).json()["request_ids"][0]
        worker = Worker(settings)
        job = worker.claim()
        assert job is not None
        attempt_dir = tmp_path / "attempt-1"
        attempt_dir.mkdir()
        metric = {
            "benchmark": "mmlu_en_mini",
            "task": "evalboard_smoke_mmlu_en",
            "metric": "acc",
            "value": 0.5,
            "stderr": 0.1,
            "n": 24,
            "is_primary": True,
            "provenance": {"data_source": "bundled"},
        }
        # Per-item scores travel beside the metrics (the board's rank bootstrap); None: a benchmark without.
        items = {"ids": ["evalboard_smoke_mmlu_en:0", "evalboard_smoke_mmlu_en:1"], "scores": [1.0, 0.0]}
        item_scores = {"mmlu_en_mini": items, "kmmlu_ko_mini": None}
        outcome = {"metrics": [metric], "data_source": "bundled", "item_scores": item_scores}
        files.write_json_atomic(attempt_dir / files.OUTCOME, outcome)
        assert worker._settle(job, 0, attempt_dir).kind == "finished"
        request = client.get(f"/api/v1/requests/{request_id}").json()
    assert (request["status"], request["data_source"]) == ("FINISHED", "bundled")
    with session_scope(settings.resolved_database_url) as session:
        stored = session.scalars(select(ItemScore.benchmark).where(ItemScore.request_id == request_id)).all()
    assert stored == ["mmlu_en_mini"]
    assert [r["provenance"]["data_source"] for r in request["results"]] == ["bundled"]
