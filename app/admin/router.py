"""Admin actions on models: POST/DELETE /api/v1/models/{id}/flag, POST .../hide and .../unhide.

Administrators only. Each returns the model as GET /api/v1/models/{id} does; each writes one audit row
(GET /api/v1/audit). An action that changes nothing is a 409 (see app/admin/service.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.admin import service
from app.auth.policy import admin
from app.auth.principal import Principal
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.submissions.schemas import ModelOut
from app.submissions.service import LARGEST_MODEL_ID, model_out

router = APIRouter(prefix="/api/v1", tags=["admin"])

ANSWERS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not an administrator"},
    404: {"description": "No such model"},
    409: {"description": "The model is already in that state"},
    422: {"description": "Invalid model id or body"},
}
# Bounded here so that no number the id column cannot hold reaches the database (a 422, not a 500).
ModelId = Annotated[int, Path(ge=1, le=LARGEST_MODEL_ID, description="The model's id")]


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        ...,
        min_length=1,
        max_length=500,
        description="Why the model is flagged; shown on the board and the model page",
        examples=["scores too good to be true: training data likely contains the test items"],
    )


@router.post("/models/{model_id}/flag", response_model=ModelOut, responses=ANSWERS)
def flag_model(
    body: FlagIn,
    model_id: ModelId,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> ModelOut:
    """Flag the model with a reason (or change the reason). It stays on the board, marked; the board's
    hide_flagged filter leaves it out."""
    model = service.flag(session, model_id, body.reason, caller, settings.resolved_private_dir)
    return model_out(session, model)


@router.delete("/models/{model_id}/flag", response_model=ModelOut, responses=ANSWERS)
def unflag_model(
    model_id: ModelId,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> ModelOut:
    """Take an administrator's flag off the model (machine flags such as contamination stay)."""
    return model_out(session, service.unflag(session, model_id, caller, settings.resolved_private_dir))


@router.post("/models/{model_id}/hide", response_model=ModelOut, responses=ANSWERS)
def hide_model(
    model_id: ModelId,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> ModelOut:
    """Take the model off every board and export; its results and its page stay."""
    model = service.set_hidden(session, model_id, True, caller, settings.resolved_private_dir)
    return model_out(session, model)


@router.post("/models/{model_id}/unhide", response_model=ModelOut, responses=ANSWERS)
def unhide_model(
    model_id: ModelId,
    caller: Principal = Depends(admin),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> ModelOut:
    """Put a hidden model back on the boards, ranked again."""
    model = service.set_hidden(session, model_id, False, caller, settings.resolved_private_dir)
    return model_out(session, model)
