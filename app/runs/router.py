"""GET /api/v1/requests: evaluation requests with status, progress, error and log tail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from app.auth.policy import admin, anonymous, owner
from app.auth.principal import Principal
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.runs import artifacts, judge_usage, service
from app.runs.queue_view import QueueSnapshot, queue_snapshot
from app.runs.schemas import RequestOut, RequestPatch, SuiteJudgeUsageOut

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
queue_router = APIRouter(prefix="/api/v1", tags=["requests"])


@queue_router.get("/queue", dependencies=[Depends(anonymous)], response_model=QueueSnapshot)
def get_queue(limit: int = Query(20, ge=1, le=200), session: Session = SESSION) -> QueueSnapshot:
    """Running (progress, current task, ETA), pending (place in line), latest failed and finished:
    what the submit page polls to update without a reload."""
    return queue_snapshot(session, limit)


@queue_router.get(
    "/suites/{suite}/judge-usage",
    dependencies=[Depends(anonymous)],
    response_model=SuiteJudgeUsageOut,
    responses={404: {}},
)
def get_suite_judge_usage(
    suite: str, session: Session = SESSION, settings: Settings = Depends(get_settings_dep)
) -> SuiteJudgeUsageOut:
    """What the LLM judge cost on a suite: calls, cache hits, tokens and cost summed over its
    finished requests, with the estimates made before judging (judged suites; others have none)."""
    return judge_usage.suite_usage(session, suite, settings.resolved_private_dir)


@router.get("", dependencies=[Depends(anonymous)], response_model=list[RequestOut])
def list_requests(
    status: str | None = Query(None, description="PENDING, RUNNING, FINISHED, FAILED or CANCELLED"),
    model_id: int | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    session: Session = SESSION,
) -> list[RequestOut]:
    return service.list_requests(session, status=status, model_id=model_id, limit=limit, offset=offset)


@router.get(
    "/{request_id}", dependencies=[Depends(anonymous)], response_model=RequestOut, responses={404: {}}
)
def get_request(request_id: int, session: Session = SESSION) -> RequestOut:
    return service.get_request(session, request_id)


@router.post(
    "/{request_id}/cancel", response_model=RequestOut, responses={401: {}, 403: {}, 404: {}, 409: {}}
)
def cancel_request(
    request_id: int,
    caller: Principal = Depends(owner),
    session: Session = SESSION,
) -> RequestOut:
    """Stop a PENDING or RUNNING request (its submitter or an admin)."""
    return service.cancel_request(session, request_id, caller)


@router.post(
    "/{request_id}/requeue", response_model=RequestOut, responses={401: {}, 403: {}, 404: {}, 409: {}}
)
def requeue_request(
    request_id: int,
    caller: Principal = Depends(owner),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> RequestOut:
    """Run a FAILED or CANCELLED request again (its submitter or an admin); the earlier end stays in
    its history."""
    return service.requeue_request(session, request_id, caller, settings.job_max_attempts)


@router.patch(
    "/{request_id}", response_model=RequestOut, responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}}
)
def patch_request(
    request_id: int,
    body: RequestPatch,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
) -> RequestOut:
    """Change a waiting request's queue priority (admins)."""
    return service.set_priority(session, request_id, body.priority, caller)


@router.get("/{request_id}/results.json", dependencies=[Depends(anonymous)], responses={404: {}, 409: {}})
def get_results_json(
    request_id: int,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> dict[str, Any]:
    """lm-eval's own results document (its schema: results, versions, n-shot, configs, n-samples),
    without private benchmarks' task configs and samples."""
    return artifacts.results_json(session, request_id, private_dir=settings.resolved_private_dir)


@router.get(
    "/{request_id}/samples", dependencies=[Depends(anonymous)], responses={403: {}, 404: {}, 409: {}, 422: {}}
)
def get_samples(
    request_id: int,
    benchmark: str | None = Query(None, description="Only this benchmark's samples"),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> dict[str, Any]:
    """Per-sample logs (prompt arguments, responses, target, per-sample metrics), paged. Private
    held-out benchmarks' samples are never served (403 when asked for by name)."""
    return artifacts.samples_page(
        session,
        request_id,
        benchmark=benchmark,
        offset=offset,
        limit=limit,
        private_dir=settings.resolved_private_dir,
    )
