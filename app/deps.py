"""Request dependencies: settings and a session that commits when the handler returns."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """Routes take it as SESSION (below). Only the streaming exports use Depends(get_session), the
    request scope: they read while their body streams."""
    with session_scope(request.app.state.settings.resolved_database_url) as session:
        yield session


# The function scope commits when the handler returns, before the response is sent: a client that acts
# on a 201 or a redirect at once sees the row (with the request scope the commit came after the response).
SESSION = Depends(get_session, scope="function")
