"""Evaluation requests: reading them (API) and moving them through their states (worker)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from app.auth import audit
from app.auth.policy import ensure_may_act
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.leaderboard import entries
from app.queue import jobs
from app.runs import judge_usage
from app.runs.schemas import RequestOut, ResultOut
from app.tables import ACTIVE_REQUEST_STATUSES, EvalRequest, Job, JobStatus, RequestStatus, Result

REQUEUEABLE = (RequestStatus.FAILED, RequestStatus.CANCELLED)


def _to_out(
    request: EvalRequest,
    results: Iterable[Result] = (),
    names: dict[int, str] | None = None,
    priority: int | None = None,
) -> RequestOut:
    return RequestOut(
        id=request.id,
        model_id=request.model_id,
        model_reference=request.model.reference,
        model_name=request.model.name,
        suite=request.suite,
        data_source=request.data_source,
        status=request.status,
        progress=request.progress,
        current_task=request.current_task,
        error=request.error,
        log_tail=request.log_tail,
        worker=request.worker,
        attempts=request.attempts,
        created_at=request.created_at,
        started_at=request.started_at,
        finished_at=request.finished_at,
        submitted_by=(names or {}).get(request.submitted_by) if request.submitted_by else None,
        priority=priority,
        history=list(request.history or []),
        results=[ResultOut.model_validate(r) for r in results],
    )


def get_request(session: Session, request_id: int) -> RequestOut:
    request = session.scalar(
        select(EvalRequest)
        .where(EvalRequest.id == request_id)
        .options(selectinload(EvalRequest.model), selectinload(EvalRequest.results))
    )
    if request is None:
        raise NotFound(f"no evaluation request with id {request_id}")
    priority = session.scalar(
        select(Job.priority).where(Job.request_id == request_id, Job.status == JobStatus.QUEUED).limit(1)
    )
    out = _to_out(
        request,
        sorted(request.results, key=lambda r: (r.benchmark, r.metric)),
        audit.user_names(session, {request.submitted_by}),
        priority,
    )
    out.judge_usage = judge_usage.request_usage(request.results)
    return out


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    model_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    oldest_first: bool = False,
) -> list[RequestOut]:
    order = EvalRequest.id.asc() if oldest_first else EvalRequest.id.desc()
    query = select(EvalRequest).options(selectinload(EvalRequest.model)).order_by(order)
    if status is not None:
        wanted = status.upper()
        if wanted not in RequestStatus.__members__:
            raise InvalidInput(
                f"unknown status {status!r}; use one of {', '.join(RequestStatus.__members__)}",
                field="status",
            )
        query = query.where(EvalRequest.status == wanted)
    if model_id is not None:
        query = query.where(EvalRequest.model_id == model_id)
    requests = list(session.scalars(query.limit(limit).offset(offset)))
    names = audit.user_names(session, {r.submitted_by for r in requests})
    return [_to_out(r, names=names) for r in requests]


def _owned_request(session: Session, request_id: int, caller: Principal) -> EvalRequest:
    request = session.get(EvalRequest, request_id)
    if request is None:
        raise NotFound(f"no evaluation request with id {request_id}")
    ensure_may_act(caller, request.submitted_by, f"request {request_id}")
    return request


def _state(request: EvalRequest) -> dict[str, Any]:
    return {"status": request.status, "error": request.error, "attempts": request.attempts}


def cancel_request(session: Session, request_id: int, caller: Principal) -> RequestOut:
    request = _owned_request(session, request_id, caller)
    if request.status not in ACTIVE_REQUEST_STATUSES:
        raise Conflict(
            f"request {request_id} is {request.status}; only PENDING or RUNNING requests can be cancelled"
        )
    before = _state(request)
    for job_id in session.scalars(select(Job.id).where(Job.request_id == request_id)):
        jobs.cancel(session, job_id)
    request.status = RequestStatus.CANCELLED
    request.finished_at = utcnow()
    request.error = "cancelled by request"
    audit.record(
        session, caller, "request.cancel", "request", request_id, before=before, after=_state(request)
    )
    return get_request(session, request_id)


def requeue_request(session: Session, request_id: int, caller: Principal, max_attempts: int) -> RequestOut:
    """A FAILED or CANCELLED request runs again as itself (same id, a new job); how it ended before is
    kept in its history, and no result is touched (a failed or cancelled request stored none)."""
    request = _owned_request(session, request_id, caller)
    if request.status not in REQUEUEABLE:
        raise Conflict(
            f"request {request_id} is {request.status}; only FAILED or CANCELLED requests can be requeued"
        )
    active = session.scalar(
        select(EvalRequest.id).where(
            EvalRequest.model_id == request.model_id,
            EvalRequest.suite == request.suite,
            EvalRequest.status.in_(ACTIVE_REQUEST_STATUSES),
        )
    )
    if active is not None:
        raise Conflict(
            f"request {active} already runs this model on {request.suite}; wait for it or cancel it"
        )
    before = _state(request)
    ended = {
        **before,
        "finished_at": request.finished_at.isoformat() if request.finished_at else None,
        "requeued_by": caller.name,
        "requeued_at": utcnow().isoformat(),
    }
    request.history = [*(request.history or []), ended]
    request.status = RequestStatus.PENDING
    request.error = None
    request.progress = 0.0
    request.current_task = None
    request.started_at = None
    request.finished_at = None
    session.flush()
    jobs.enqueue(session, kind="eval", request_id=request_id, max_attempts=max_attempts)
    audit.record(
        session, caller, "request.requeue", "request", request_id, before=before, after=_state(request)
    )
    return get_request(session, request_id)


def set_priority(session: Session, request_id: int, priority: int, caller: Principal) -> RequestOut:
    if session.get(EvalRequest, request_id) is None:
        raise NotFound(f"no evaluation request with id {request_id}")
    waiting = list(
        session.scalars(select(Job).where(Job.request_id == request_id, Job.status == JobStatus.QUEUED))
    )
    if not waiting:
        raise Conflict(
            f"request {request_id} has no waiting job; only a queued request's priority can change"
        )
    before = {"priority": waiting[0].priority}
    for job in waiting:
        job.priority = priority
    session.flush()
    audit.record(
        session,
        caller,
        "request.priority",
        "request",
        request_id,
        before=before,
        after={"priority": priority},
    )
    return get_request(session, request_id)


# --- worker side ---------------------------------------------------------------------------------


def mark_running(session: Session, request_id: int, worker_id: str, attempt: int) -> None:
    session.execute(
        update(EvalRequest)
        .where(EvalRequest.id == request_id, EvalRequest.status.in_(ACTIVE_REQUEST_STATUSES))
        .values(
            status=RequestStatus.RUNNING,
            worker=worker_id,
            attempts=attempt,
            started_at=utcnow(),
            progress=0.0,
            current_task=None,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )


def record_progress(
    session: Session,
    request_id: int,
    *,
    progress: float | None,
    current_task: str | None,
    log_tail: str | None,
) -> None:
    values: dict[str, Any] = {"log_tail": log_tail}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, progress))
        values["current_task"] = current_task
    session.execute(
        update(EvalRequest)
        .where(EvalRequest.id == request_id, EvalRequest.status == RequestStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_finished(
    session: Session,
    request_id: int,
    rows: list[dict[str, Any]],
    artifacts_path: str,
    log_tail: str,
    *,
    data_source: str | None = None,
    item_scores: dict[str, Any] | None = None,
    private_dir: Path | None = None,
) -> None:
    """Store every result row, flip the status and update the board's index, all in the caller's
    transaction (all or nothing).

    data_source (hub | private | bundled | mixed) decides which board ranks the request; item_scores
    ({benchmark: {ids, scores, weights}}) feed the board's rank bootstrap; private_dir finds private
    suites' definitions."""
    from app.leaderboard import item_store  # numpy: loaded when results are written, never at start-up

    session.add_all(Result(request_id=request_id, **row) for row in rows)
    item_store.save(session, request_id, item_scores)
    session.execute(
        update(EvalRequest)
        .where(EvalRequest.id == request_id)
        .values(
            status=RequestStatus.FINISHED,
            progress=1.0,
            current_task=None,
            finished_at=utcnow(),
            artifacts_path=artifacts_path,
            data_source=data_source,
            log_tail=log_tail,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    entries.refresh(session, request_id, private_dir)


def mark_failed_or_pending(
    session: Session, request_id: int, *, error: str, log_tail: str | None, final: bool
) -> None:
    """After a failed attempt: FAILED for good, or back to PENDING awaiting a retry (error kept).

    log_tail None keeps the tail already stored (the reaper has no log of a dead worker's job)."""
    values: dict[str, Any] = {
        "status": RequestStatus.FAILED if final else RequestStatus.PENDING,
        "error": error,
        "finished_at": utcnow() if final else None,
        "current_task": None,
    }
    if log_tail is not None:
        values["log_tail"] = log_tail
    session.execute(
        update(EvalRequest)
        .where(EvalRequest.id == request_id, EvalRequest.status.in_(ACTIVE_REQUEST_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
