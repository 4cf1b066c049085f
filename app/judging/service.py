"""Judge jobs: check and queue a file of items for the server's judge; read a job back.

The items are checked here, in the API process, before anything is queued (app/judging/items.py:
every problem named by line and field, every bound a 413 that says what to change), then counted
against the weekly quota and queued as one job of kind "judge" holding them. A worker grades them
(app/worker/judge_jobs.py); the API never loads a model.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.principal import Principal
from app.auth.quota import check_weekly_quota
from app.config import Settings
from app.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from app.judging import items as judge_items
from app.judging.schemas import JudgeJobOut
from app.queue import jobs
from app.tables import Job


def status_url(job_id: int) -> str:
    return f"/api/v1/judge/{job_id}"


def create(
    session: Session,
    settings: Settings,
    caller: Principal,
    data: bytes,
    file_name: str | None,
    method: str,
    lang: str,
    korean_penalty: bool | None,
) -> JudgeJobOut:
    if method not in judge_items.METHODS:
        raise InvalidInput(
            f"unknown method {method!r}: use one of {', '.join(judge_items.METHODS)}", field="method"
        )
    if lang not in judge_items.LANGS:
        raise InvalidInput(
            f"unknown lang {lang!r}: use ko or en (the language of the judge's prompts)", field="lang"
        )
    try:
        parsed = judge_items.parse(
            data,
            method,
            lang,
            max_items=settings.judge_file_max_items,
            max_bytes=settings.judge_file_max_bytes,
        )
    except judge_items.JudgeFileError as exc:
        raise (PayloadTooLarge if exc.too_large else InvalidInput)(str(exc), field="file") from None
    check_weekly_quota(session, settings, caller, 1, field="file")
    payload = {
        "method": method,
        "lang": lang,
        "items": parsed.items,
        "korean_penalty": korean_penalty,
        "file_name": (file_name or "")[:200] or None,
        "sha256": hashlib.sha256(data).hexdigest(),
        "submitted_by": caller.user_id,
    }
    job = jobs.enqueue(
        session, kind=judge_items.JUDGE_JOB_KIND, request_id=None, payload=payload,
        max_attempts=settings.job_max_attempts,
    )  # fmt: skip
    return to_out(session, job, with_result=False)


def to_out(session: Session, job: Job, *, with_result: bool = True) -> JudgeJobOut:
    payload = job.payload or {}
    owner = payload.get("submitted_by")
    return JudgeJobOut(
        id=job.id,
        status=job.status,
        method=payload.get("method", ""),
        lang=payload.get("lang", ""),
        items=len(payload.get("items") or []),
        file_name=payload.get("file_name"),
        sha256=payload.get("sha256", ""),
        korean_penalty=payload.get("korean_penalty"),
        submitted_by=audit.user_names(session, {owner}).get(owner) if owner is not None else None,
        attempts=job.attempts,
        error=job.last_error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        status_url=status_url(job.id),
        result=payload.get(judge_items.RESULT_KEY) if with_result else None,
    )


def get(session: Session, job_id: int, caller: Principal) -> JudgeJobOut:
    """The job and its results: its submitter's or an administrator's to read (the items may be
    private work)."""
    job = None
    if job_id < 2**31:  # beyond PostgreSQL's integer: no such row, not a database error
        job = session.scalar(select(Job).where(Job.id == job_id, Job.kind == judge_items.JUDGE_JOB_KIND))
    if job is None:
        raise NotFound(f"no judge job with id {job_id}")
    if not caller.may_act_on((job.payload or {}).get("submitted_by")):
        raise Forbidden(
            f"judge job {job_id} belongs to someone else: only its submitter or an administrator may read it"
        )
    return to_out(session, job)
