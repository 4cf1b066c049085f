"""The "judge" job kind (POST /api/v1/judge): grade a file's items with the server's judge.

The job row is the whole record: its payload holds the method, language and items (and who sent
them), the child grades them (harness/judge_file.py, in the worker's child process like every
job, so the API never loads a model), and the parent stores the results document in the payload
in its fenced transaction. A failed attempt keeps its error in the row; retries follow the queue's
rules like any job's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.judging.items import JUDGE_JOB_KIND, RESULT_KEY
from app.queue.jobs import ClaimedJob
from app.tables import Job
from app.worker import files

KIND = JUDGE_JOB_KIND


def job_dir(settings: Settings, job: ClaimedJob) -> Path:
    return settings.resolved_artifacts_dir / "judge" / str(job.id)


def job_spec(settings: Settings, job: ClaimedJob) -> dict[str, Any]:
    payload = job.payload
    return {
        "kind": KIND,
        "job_id": job.id,
        "method": payload["method"],
        "lang": payload["lang"],
        "items": payload["items"],
        "korean_penalty": payload.get("korean_penalty"),
        "judge": settings.judge_options,  # the key crosses to the child in memory, never recorded
        "cache_dir": str(settings.resolved_model_cache_dir),
        "target": {"reference": f"judge file {payload.get('file_name') or ''}".strip()},  # the log line
        "suite": f"{KIND}:{payload['method']}",
    }


def run_in_child(spec: dict[str, Any], attempt_dir: Path) -> dict[str, Any]:
    """The child's part: grade the items; the results document becomes outcome.json."""
    from app.worker.run_settings import judge_setup
    from harness.judge_file import grade

    files.write_json_atomic(attempt_dir / files.PROGRESS, {"progress": 0.0, "task": spec["suite"]})
    print(f"[evalboard] grading {len(spec['items'])} items ({spec['suite']}, {spec['lang']})", flush=True)
    return grade(
        spec["method"],
        spec["lang"],
        spec["items"],
        judge_setup(spec["judge"]),
        Path(spec["cache_dir"]),
        korean_penalty=spec.get("korean_penalty"),
    )


def settle_finished(session: Session, job: ClaimedJob, outcome: dict[str, Any]) -> str:
    """Store the results in the job row (the caller completed the job in this transaction)."""
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(payload={**job.payload, RESULT_KEY: outcome})
        .execution_options(synchronize_session=False)
    )
    return f"{outcome.get('n', 0)} items graded ({job.payload.get('method')})"
