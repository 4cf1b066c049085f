"""Request dependencies: settings and a session that commits when the handler returns."""

from __future__ import annotations

from collections.abc import AsyncIterator

from anyio import CancelScope
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.db import finish, session_factory


async def get_settings_dep(request: Request) -> Settings:
    # async: FastAPI runs a plain def dependency on the thread pool, a hop that costs more than this.
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A unit of work, as app.db.session_scope: commit on success, roll back on error (app.db.finish).
    Routes take it as SESSION (below). Only the streaming exports use Depends(get_session), the
    request scope: they read while their body streams.

    Opening a Session does no I/O, so it is made here on the event loop; its end (commit or rollback,
    then close, which hands the connection back) is one thread pool call, shielded from cancellation
    so that a client that goes away never strands a connection. A plain generator dependency cost two
    thread pool hops per request, more CPU than a board page's SQL."""
    session = session_factory(request.app.state.settings.resolved_database_url)()
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await run_in_threadpool(finish, session, commit=False)
        raise
    with CancelScope(shield=True):
        await run_in_threadpool(finish, session, commit=True)


# The function scope commits when the handler returns, before the response is sent: a client that acts
# on a 201 or a redirect at once sees the row (with the request scope the commit came after the response).
SESSION = Depends(get_session, scope="function")
