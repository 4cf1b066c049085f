"""Users and API tokens: create, list, disable, revoke. Used by the CLI and the admin API alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth import token_cache
from app.auth.credentials import hash_password, new_api_token, password_problem
from app.auth.tables import ApiToken, Role, User, WebSession
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    prefix: str
    name: str
    user: str
    expires_at: datetime | None


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise InvalidInput(
            "a user name is 2-64 characters of lower-case letters, digits, '.', '_' or '-', starting with "
            "a letter or digit",
            field="name",
        )
    return name


def add_user(
    session: Session,
    name: str,
    *,
    role: str = Role.MEMBER,
    display_name: str | None = None,
    password: str | None = None,
) -> User:
    check_user_name(name)
    if role not in set(Role):
        raise InvalidInput(f"role must be one of {', '.join(Role)}", field="role")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} already exists; choose another name", field="name")
    if password is not None and (problem := password_problem(password)):
        raise InvalidInput(problem, field="password")
    user = User(
        name=name,
        display_name=(display_name or name)[:128],
        role=role,
        password_hash=hash_password(password) if password else None,
        disabled=False,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password ends every web session of the user (someone who knew the old one is signed out)."""
    if problem := password_problem(password):
        raise InvalidInput(problem, field="password")
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()


def disable_user(session: Session, user: User) -> None:
    """A disabled user's tokens and sessions stop working at once (sessions are deleted; tokens are
    refused on their next lookup, within auth_cache_seconds in other processes)."""
    user.disabled = True
    for web_session in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        session.delete(web_session)
    session.flush()
    token_cache.clear()


def create_token(
    session: Session, user: User, *, label: str | None = None, expires_days: int | None = None
) -> IssuedToken:
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"expires_days must be between 1 and {MAX_TOKEN_DAYS}", field="expires_days")
    if user.disabled:
        raise Conflict(f"user {user.name!r} is disabled; enable it before issuing tokens", field="name")
    token, prefix, token_hash = new_api_token()
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    name = (label or "default").strip()[:64] or "default"
    session.add(
        ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=token_hash, expires_at=expires_at)
    )
    session.flush()
    return IssuedToken(token=token, prefix=prefix, name=name, user=user.name, expires_at=expires_at)


def list_tokens(session: Session, user: User | None = None) -> list[tuple[ApiToken, str]]:
    """(token row, owner's name), newest first; every user's when user is None."""
    query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return [(token, name) for token, name in session.execute(query)]


def find_token(session: Session, prefix: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise NotFound(f"no token with prefix {prefix!r}", field="prefix")
    return token


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    token_cache.clear()
