"""People for tests: a real user row and a real API token in the test's own database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth import accounts
from app.auth.tables import Role
from app.config import Settings
from app.db import session_scope
from app.errors import NotFound


def add_user_with_token(
    database_url: str, name: str, role: str = Role.MEMBER, password: str | None = None
) -> str:
    """Creates the user (or reuses it) and returns a fresh API token for it."""
    with session_scope(database_url) as session:
        try:
            user = accounts.get_user(session, name)
        except NotFound:
            user = accounts.add_user(session, name, role=role, password=password)
        return accounts.create_token(session, user, label="test").token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_headers(database_url: str, name: str = "root-admin") -> dict[str, str]:
    return bearer(add_user_with_token(database_url, name, Role.ADMIN))


def member_headers(database_url: str, name: str = "member-a") -> dict[str, str]:
    return bearer(add_user_with_token(database_url, name, Role.MEMBER))


def admin_client(settings: Settings) -> TestClient:
    """The app under test, called by an administrator (enter it with `with`)."""
    from app.main import create_app

    return TestClient(create_app(settings), headers=admin_headers(settings.resolved_database_url))
