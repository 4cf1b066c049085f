"""The first administrator of a fresh embedded install (`make run`): created on first start, with a
one-time sign-in link and an API token written to the log once.

Only on the embedded SQLite default and only while no user exists: a server on PostgreSQL is set up
with `evalboard users add NAME --role admin` instead, and nothing is ever printed twice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.auth import accounts, audit
from app.auth.signin_links import create_signin_link, signin_link_path
from app.auth.tables import Role, User
from app.config import Settings
from app.db import session_scope

FIRST_ADMIN = "admin"
LINK_MINUTES = 24 * 60


@dataclass(frozen=True)
class FirstAdmin:
    name: str
    link_path: str
    token: str


def create_first_admin(settings: Settings) -> FirstAdmin | None:
    if not settings.bootstrap_admin or settings.database_url:
        return None
    with session_scope(settings.resolved_database_url) as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return None
        user = accounts.add_user(session, FIRST_ADMIN, role=Role.ADMIN, display_name="Administrator")
        audit.record(
            session, None, "user.add", "user", user.name, after={"role": user.role}, note="first start"
        )
        token = accounts.create_token(session, user, label="first start").token
        link = signin_link_path(create_signin_link(session, user, minutes=LINK_MINUTES))
    return FirstAdmin(FIRST_ADMIN, link, token)
