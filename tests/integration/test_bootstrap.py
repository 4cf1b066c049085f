"""`make run`'s first start: one administrator, a one-time sign-in link and a token, printed once."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from app.auth.bootstrap import create_first_admin
from app.main import create_app
from app.migrate import upgrade
from tests.conftest import make_settings
from tests.e2e.procs import Proc, start_server


def test_first_start_creates_one_admin_whose_link_works_once(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path, "", bootstrap_admin=True)
    upgrade(settings.resolved_database_url)
    first = create_first_admin(settings)
    assert first is not None and first.name == "admin"
    assert create_first_admin(settings) is None  # never twice
    with TestClient(create_app(settings)) as client:
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {first.token}"}).json()["role"]
            == "admin"
        )
        signed_in = client.get(first.link_path, follow_redirects=False)
        assert signed_in.status_code == 303 and client.cookies.get("evalboard_session")
        assert client.get("/api/v1/users").json()[0]["name"] == "admin"  # the session is an admin's
        client.cookies.clear()
        assert client.get(first.link_path, follow_redirects=False).status_code == 410
    # Only on the embedded default: a configured database gets its admin from `evalboard users add`.
    assert create_first_admin(make_settings(tmp_path / "pg", postgres_url, bootstrap_admin=True)) is None


def test_serve_prints_the_link_and_token_once_on_the_embedded_default(tmp_path: Path) -> None:
    """The real `evalboard serve` on the embedded SQLite default (no database URL set)."""
    settings = make_settings(tmp_path, "", bootstrap_admin=True)
    for attempt in range(2):
        procs: list[Proc] = []
        try:
            base_url, server = start_server(settings, tmp_path, procs, "--no-local-worker")
            token = re.search(r"API token: (evb_\S+)", server.log())
            if attempt == 0:
                assert token and f"{base_url}/signin/link?token=" in server.log(), server.log
                me = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
                assert me.json()["role"] == "admin"
            else:
                assert token is None and "/signin/link" not in server.log()  # shown once
        finally:
            for proc in procs:
                proc.stop()
