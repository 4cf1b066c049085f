"""The worker parent's side of a fine-tune job: its spec, mirrored progress and how it settles.

Scores of the tuned model are committed here, in the parent's fenced transaction, like an
evaluation job's. When training finished but the in-process evaluation did not (a crash, an
out-of-memory kill), the adapter is on disk and its requests are recorded: they go back to the
queue as ordinary evaluation jobs of the saved adapter instead of training again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.queue import jobs
from app.queue.jobs import ClaimedJob
from app.runs import service as runs
from app.tables import (
    ACTIVE_FINETUNE_STATUSES,
    EvalRequest,
    FineTune,
    FineTuneStatus,
    LlmModel,
    RequestStatus,
)


def finetune_id(job: ClaimedJob) -> int:
    return int(job.payload.get("finetune_id", 0))


def job_spec(session: Session, settings: Settings, job: ClaimedJob) -> dict[str, Any] | None:
    finetune = session.get(FineTune, finetune_id(job))
    if finetune is None or finetune.status not in ACTIVE_FINETUNE_STATUSES:
        return None
    base = session.get(LlmModel, finetune.base_model_id)
    if base is None:
        return None
    output_dir = settings.resolved_artifacts_dir / "finetunes" / str(finetune.id)
    return {
        "kind": "finetune",
        "finetune_id": finetune.id,
        "database_url": settings.resolved_database_url,
        "worker_id": settings.resolved_worker_id,
        "base": {
            "reference": base.reference,
            "source": base.source,
            "revision": base.revision,
            "commit_sha": base.commit_sha,
            "use_chat_template": base.use_chat_template,
        },
        "params": dict(finetune.params),
        "suites": list(finetune.suites),
        "dataset_path": finetune.dataset_path,
        "dataset_id": finetune.dataset_name.removeprefix("hub:") if not finetune.dataset_path else None,
        "output_dir": str(output_dir),
        "cache_dir": str(settings.resolved_model_cache_dir),
        "harness": settings.harness_kwargs,
        "private_dir": str(settings.resolved_private_dir),
        "target": {"reference": base.reference},  # for the worker's log line
        "suite": ",".join(finetune.suites),
        **job.payload,
    }


def mark_running(session: Session, job: ClaimedJob, worker_id: str) -> None:
    finetune = session.get(FineTune, finetune_id(job))
    if finetune is not None:
        finetune.status = FineTuneStatus.TRAINING
        finetune.worker = worker_id
        finetune.attempts = job.attempt
        finetune.started_at = utcnow()
        finetune.error = None
        finetune.step = 0
        finetune.losses = []


def record_progress(session: Session, job: ClaimedJob, progress: dict[str, Any], log_tail: str) -> None:
    finetune = session.get(FineTune, finetune_id(job))
    if finetune is None or finetune.status not in ACTIVE_FINETUNE_STATUSES:
        return
    finetune.log_tail = log_tail
    if "step" in progress:
        finetune.step = int(progress["step"])
        finetune.total_steps = progress.get("total_steps")
        finetune.eta_seconds = progress.get("eta_seconds")
        finetune.tokens_per_second = progress.get("tokens_per_second")
        finetune.losses = list(progress.get("losses", []))


def settle_finished(
    session: Session,
    settings: Settings,
    job: ClaimedJob,
    outcome: dict[str, Any],
    attempt_dir: Path,
    tail: str,
) -> str:
    finetune = session.get(FineTune, finetune_id(job))
    if finetune is None:
        return "fine-tune row gone"
    progress = outcome.get("progress") or {}
    finetune.losses = list(progress.get("losses", finetune.losses))
    finetune.step = int(outcome["train"]["steps"])
    finetune.tokens_per_second = outcome["train"].get("tokens_per_second")
    finetune.summary = {
        **outcome["train"],
        "handoff_seconds": outcome.get("handoff_seconds"),
        "evaluated_in_memory": all(not r["model_loaded_from_disk"] for r in outcome.get("requests", [])),
    }
    finetune.eta_seconds = 0.0
    finetune.log_tail = tail
    finetune.finished_at = utcnow()
    if outcome.get("stopped"):
        finetune.status = FineTuneStatus.CANCELLED
        return f"stopped at step {finetune.step}; adapter saved"
    for evaluated in outcome["requests"]:
        request = session.get(EvalRequest, evaluated["request_id"])
        if request is None or request.status != RequestStatus.RUNNING:
            continue  # cancelled by someone while this process evaluated it: keep nothing
        runs.mark_finished(
            session,
            evaluated["request_id"],
            evaluated["metrics"],
            str(Path(evaluated["results_path"]).parent),
            tail,
            data_source=evaluated.get("data_source"),
            item_scores=evaluated.get("item_scores"),
            private_dir=settings.resolved_private_dir,
        )
    finetune.status = FineTuneStatus.FINISHED
    return f"trained {finetune.step} steps, evaluated {len(outcome['requests'])} suite(s)"


def settle_failed(
    session: Session, settings: Settings, job: ClaimedJob, error: str, tail: str, *, final: bool
) -> bool:
    """Returns True when the job is over for good (training done, evaluations handed to the queue),
    so the caller completes it instead of retrying the training."""
    finetune = session.get(FineTune, finetune_id(job))
    if finetune is None:
        return False
    finetune.log_tail = tail
    if finetune.tuned_model_id is not None and finetune.status == FineTuneStatus.EVALUATING:
        pending = session.scalars(
            select(EvalRequest).where(
                EvalRequest.model_id == finetune.tuned_model_id, EvalRequest.status == RequestStatus.RUNNING
            )
        ).all()
        for request in pending:
            request.status = RequestStatus.PENDING
            request.error = f"in-process evaluation failed ({error}); queued again from the saved adapter"
            jobs.enqueue(session, kind="eval", request_id=request.id, max_attempts=settings.job_max_attempts)
        finetune.status = FineTuneStatus.FINISHED
        finetune.error = f"training finished; evaluation moved to the queue after: {error}"
        finetune.finished_at = utcnow()
        return True
    if finetune.status in ACTIVE_FINETUNE_STATUSES:
        finetune.status = FineTuneStatus.FAILED if final else FineTuneStatus.QUEUED
        finetune.error = error
        finetune.finished_at = utcnow() if final else None
    return False


def reaped(session: Session, settings: Settings, job_id: int, reason: str, requeued: bool) -> None:
    """The reaper returned a dead worker's fine-tune job: same rules as a failed attempt."""
    finetune = session.scalar(select(FineTune).where(FineTune.job_id == job_id))
    if finetune is None:
        return
    claimed = ClaimedJob(job_id, "finetune", None, {"finetune_id": finetune.id}, 0, 0)
    if settle_failed(session, settings, claimed, reason, finetune.log_tail or "", final=not requeued):
        jobs.cancel(session, job_id)  # its evaluations are queued on their own: no retraining
