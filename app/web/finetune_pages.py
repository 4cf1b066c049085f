"""The fine-tune pages: the form with recent jobs, and one job's live page (status, loss curve,
ETA, contamination report, the tuned model). The form posts to the API from the browser, so the
page and `curl -F` get the same validation and messages; the live page polls the same JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.auth.policy import anonymous
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.errors import NotFound
from app.finetune import service
from app.runs.model_pages import is_whole_number
from app.web.router import render_page

router = APIRouter(include_in_schema=False)
RECENT = 20


@router.get("/finetunes", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def finetunes_page(
    request: Request,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    recent = service.list_finetunes(session, limit=RECENT, offset=0)
    return render_page(
        request,
        settings,
        "finetune.html",
        finetune=None,
        recent=recent,
        upload_limit=settings.finetune_max_upload_bytes,
    )


@router.get("/finetunes/{finetune_id}", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def finetune_page(
    finetune_id: str,
    request: Request,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    try:
        if not is_whole_number(finetune_id):
            raise NotFound(finetune_id)
        finetune = service.get(session, int(finetune_id))
    except NotFound:
        return render_page(
            request, settings, "finetune.html", 404, finetune=None, missing=finetune_id, recent=[]
        )
    return render_page(request, settings, "finetune.html", finetune=finetune, recent=[], upload_limit=0)
