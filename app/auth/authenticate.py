"""From a request's credentials to a Principal: `Authorization: Bearer evb_...` or the session cookie.

A presented credential that does not work is a 401 with the reason (garbage, unknown, revoked,
expired, disabled), never a silent fall back to anonymous: a caller who meant to be someone must learn
that they are not."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth import token_cache
from app.auth.credentials import digest, looks_like_api_token
from app.auth.principal import Principal
from app.auth.tables import ApiToken, User, WebSession
from app.auth.web_sessions import SESSION_COOKIE, session_id_from_cookie
from app.config import Settings
from app.db import session_scope, utcnow
from app.errors import Unauthorized

LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is a hint, not a write per request


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>' with an evb_ token")
    return value.strip()


def cached_principal(token: str) -> Principal | None:
    """The answer this process already has for the token: its principal, a 401 for a refusal it
    remembers, or None when it must be looked up (no database work here: the policy's fast path)."""
    cached = token_cache.get(digest(token))
    if cached is None:
        return None
    if cached.principal is None:
        raise Unauthorized(cached.problem or "the token is not valid")
    return cached.principal


def principal_from_token(settings: Settings, token: str) -> Principal:
    if not looks_like_api_token(token):
        raise Unauthorized(
            "that is not an evalboard API token (they start with evb_); create one with "
            "`evalboard tokens create NAME`"
        )
    known = cached_principal(token)
    if known is not None:
        return known
    token_hash = digest(token)
    with session_scope(settings.resolved_database_url) as session:
        looked_up = _look_up(session, token, token_hash, settings.auth_cache_seconds)
    token_cache.put(token_hash, looked_up)
    if looked_up.principal is None:
        raise Unauthorized(looked_up.problem or "the token is not valid")
    return looked_up.principal


def _look_up(session: Session, token: str, token_hash: str, ttl: float) -> token_cache.CachedLookup:
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.prefix == token[:12])
    ).first()
    expires = time.monotonic() + ttl
    now = utcnow()

    def refused(problem: str) -> token_cache.CachedLookup:
        return token_cache.CachedLookup(None, problem, expires)

    if row is None or row.ApiToken.token_hash != token_hash:
        return refused("unknown token: check that it was copied whole, or create a new one")
    api_token, user = row.ApiToken, row.User
    if api_token.revoked_at is not None:
        return refused("this token was revoked; create a new one with `evalboard tokens create`")
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return refused("this token has expired; create a new one with `evalboard tokens create`")
    if user.disabled:
        return refused("this account is disabled; ask an administrator")
    if api_token.expires_at is not None:  # never cache past the token's own end
        expires = min(expires, time.monotonic() + (api_token.expires_at - now).total_seconds())
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    principal = Principal(user.id, user.name, user.role, via="token", token_prefix=api_token.prefix)
    return token_cache.CachedLookup(principal, None, expires)


def principal_from_session(settings: Settings, session_id: str) -> Principal | None:
    """None: the session ended (signed out, expired, user disabled); the page then treats the caller as
    anonymous and clears the cookie, as browsers expect after a sign-out elsewhere."""
    with session_scope(settings.resolved_database_url) as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id_hash == digest(session_id))
        ).first()
    if row is None or row.User.disabled or row.WebSession.expires_at <= utcnow():
        return None
    return Principal(
        row.User.id, row.User.name, row.User.role, via="session", csrf_token=row.WebSession.csrf_token
    )


def authenticate(request: Request, settings: Settings) -> Principal | None:
    token = bearer_token(request)
    if token is not None:
        return principal_from_token(settings, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session_id = session_id_from_cookie(settings, cookie)
        if session_id is not None:
            return principal_from_session(settings, session_id)
    return None
