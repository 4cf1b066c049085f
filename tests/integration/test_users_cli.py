"""`evalboard users` and `evalboard tokens` as the issue names them, in real processes: a token printed
alone on the last line works against the API; list, disable, revoke and password do what they say."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient

from app.auth import token_cache
from app.config import Settings
from app.main import create_app
from tests.conftest import settings_env
from tests.e2e.procs import EVALBOARD
from tests.support.auth import bearer


def cli(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EVALBOARD, *args],
        env=settings_env(settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_and_tokens_from_the_command_line(settings: Settings) -> None:
    added = cli(
        settings, "users", "add", "alice", "--role", "member", "--password-stdin", stdin="a-long-password\n"
    )
    assert added.returncode == 0, added.stderr
    assert cli(settings, "users", "add", "root", "--role", "admin").returncode == 0
    again = cli(settings, "users", "add", "alice")
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    weak = cli(settings, "users", "add", "bob", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "too short" in weak.stderr

    created = cli(settings, "tokens", "create", "alice", "--label", "ci", "--expires-days", "30")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("evb_") and " " not in token
    listed = cli(settings, "tokens", "list", "alice")
    assert token[:12] in listed.stdout and token not in listed.stdout
    users = cli(settings, "users", "list").stdout
    assert "alice" in users and "root" in users and "admin" in users

    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/me", headers=bearer(token)).json()["name"] == "alice"
        assert cli(settings, "tokens", "revoke", token[:12]).returncode == 0
        token_cache.clear()  # as after EVALBOARD_AUTH_CACHE_SECONDS: another process revoked it
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401

        second = cli(settings, "tokens", "create", "alice").stdout.strip().splitlines()[-1]
        assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
        assert cli(settings, "users", "disable", "alice").returncode == 0
        token_cache.clear()
        refused = client.get("/api/v1/me", headers=bearer(second))
        assert refused.status_code == 401 and "disabled" in refused.json()["detail"]

    password = cli(settings, "users", "password", "root", stdin="another-long-password\n")
    assert password.returncode == 0 and "password set for root" in password.stderr
    missing = cli(settings, "tokens", "revoke", "evb_nothing1")
    assert missing.returncode == 2 and "no token" in missing.stderr
