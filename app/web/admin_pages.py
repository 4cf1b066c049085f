"""The /admin page: the audit log, people and their tokens, flagged and hidden models, and small forms
that call the admin API from the browser (so the page and `curl` share one set of checks and messages).

Administrators only: a member gets the 403 page, a visitor the sign-in page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.admin.overview import moderated_models
from app.auth import accounts, audit
from app.auth.policy import admin
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.runs.queue_view import queue_snapshot
from app.web.router import render_page

router = APIRouter(include_in_schema=False)
AUDIT_SHOWN = 100


@router.get("/admin", dependencies=[Depends(admin)], response_class=HTMLResponse)
def admin_page(
    request: Request,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    """Tokens are listed by prefix: the server keeps only their hashes, and the page never needs more."""
    queue = queue_snapshot(session)
    return render_page(
        request,
        settings,
        "admin.html",
        audit_entries=audit.entries(session, limit=AUDIT_SHOWN),
        users=accounts.list_users(session),
        tokens=accounts.list_tokens(session),
        models=moderated_models(session),
        pending=queue.pending,
        failed=queue.failed,
    )
