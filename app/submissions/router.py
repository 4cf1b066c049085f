"""POST/GET /api/v1/models."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from app.auth.policy import anonymous, member
from app.auth.principal import Principal
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.leaderboard.service import standings
from app.submissions import service
from app.submissions.schemas import ModelOut, SubmissionIn, SubmissionOut

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.post(
    "", status_code=201, response_model=SubmissionOut, responses={401: {}, 409: {}, 422: {}, 429: {}}
)
def submit_model(
    body: SubmissionIn,
    caller: Principal = Depends(member),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> SubmissionOut:
    """Queue a model for evaluation on one or more suites (members; counted against the weekly quota)."""
    return service.submit(session, settings, body, caller)


@router.get("", response_model=list[ModelOut])
def list_models(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    caller: Principal | None = Depends(anonymous),
    session: Session = SESSION,
) -> list[ModelOut]:
    """Newest first. Models an administrator hid are listed for administrators only; each one's own
    GET still answers (hidden: true), so links to it keep working."""
    include_hidden = caller is not None and caller.is_admin
    models = service.list_models(session, limit=limit, offset=offset, include_hidden=include_hidden)
    return service.models_out(session, models)


@router.get("/{model_id}", dependencies=[Depends(anonymous)], response_model=ModelOut, responses={404: {}})
def get_model(model_id: int, session: Session = SESSION) -> ModelOut:
    out = service.model_out(session, service.get_model(session, model_id))
    out.boards = standings(session, model_id)
    return out
