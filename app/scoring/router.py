from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from app.auth.policy import member
from app.scoring.schemas import ScoreIn, ScoreOut
from app.scoring.service import score

router = APIRouter(prefix="/api/v1", tags=["scoring"])


@router.post(
    "/score",
    response_model=ScoreOut,
    responses={
        401: {"description": "Not signed in"},
        413: {"description": "Too many pairs or too long a text"},
        422: {"description": "Bad input"},
    },
    dependencies=[Depends(member)],
)
async def score_predictions(body: ScoreIn, request: Request) -> dict[str, Any]:
    """Score predictions against references (outputs made elsewhere), with no model run: corpus
    scores on 0..1 with their standard error, and per-pair scores."""
    return await score(body, request.app.state.settings, request.app.state.scoring_pool)
