"""Web sign-in: the session cookie (a random id, signed with itsdangerous and stored as a hash), its
CSRF token, and the pre-sign-in CSRF cookie that protects the sign-in form itself."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.auth.credentials import digest, new_secret
from app.auth.tables import User, WebSession
from app.config import Settings
from app.db import utcnow

SESSION_COOKIE = "evalboard_session"
CSRF_COOKIE = "evalboard_csrf"  # before sign-in: double-submit token of the sign-in form
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@lru_cache(maxsize=8)
def _key_from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(new_secret())
    return path.read_text().strip()


def secret_key(settings: Settings) -> str:
    return settings.secret_key or _key_from_file(settings.home / "secret_key")


def _signer(settings: Settings) -> TimestampSigner:
    return TimestampSigner(secret_key(settings), salt="evalboard.session")


def session_id_from_cookie(settings: Settings, cookie: str) -> str | None:
    try:
        value = _signer(settings).unsign(cookie, max_age=int(settings.session_hours * 3600))
    except BadSignature:  # tampered, foreign or too old
        return None
    return value.decode()


def start_session(session: Session, settings: Settings, user: User) -> tuple[str, str]:
    """A new session row; returns (cookie value, CSRF token)."""
    session_id, csrf = new_secret(), new_secret()
    session.add(
        WebSession(
            id_hash=digest(session_id),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=settings.session_hours),
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))  # tidy as we go
    session.flush()
    return _signer(settings).sign(session_id).decode(), csrf


def end_session(session: Session, settings: Settings, cookie: str | None) -> None:
    session_id = session_id_from_cookie(settings, cookie) if cookie else None
    if session_id is not None:
        session.execute(delete(WebSession).where(WebSession.id_hash == digest(session_id)))
