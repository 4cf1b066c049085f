"""The bad-input catalog of identity: each refusal is a clear 4xx that writes nothing.

Tokens (none, garbage, unknown, revoked, expired, disabled user), roles (member on admin routes),
ownership, the weekly quota (429 + Retry-After), the request rate limit (in memory and shared through
the machine's real Redis), the body-size limit, and the token API itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.auth import accounts, token_cache
from app.auth.tables import ApiToken
from app.config import Settings
from app.db import session_scope, utcnow
from app.main import create_app
from app.tables import AuditLog, EvalRequest, Job, LlmModel
from tests.support.auth import add_user_with_token, admin_headers, bearer, member_headers

BUNDLED = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def written(settings: Settings) -> tuple[int, ...]:
    with session_scope(settings.resolved_database_url) as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (LlmModel, EvalRequest, Job, AuditLog)
        )


def refused(client: TestClient, settings: Settings, headers: dict[str, str], status: int, words: str) -> None:
    before = written(settings)
    response = client.post("/api/v1/models", json=BUNDLED, headers=headers)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert written(settings) == before


def test_missing_garbage_and_unknown_tokens_are_401(client: TestClient, settings: Settings) -> None:
    response = client.post("/api/v1/models", json=BUNDLED)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert "sign in first" in response.json()["detail"]
    refused(client, settings, {"Authorization": "Basic dXNlcjpwdw=="}, 401, "must be 'Bearer <token>'")
    refused(client, settings, bearer("not-a-token"), 401, "not an evalboard API token")
    refused(client, settings, bearer("evb_" + "A" * 43), 401, "unknown token")
    assert written(settings) == (0, 0, 0, 0)


def test_revoked_expired_and_disabled_are_401(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    headers = member_headers(url, "carol")
    assert client.post("/api/v1/models", json=BUNDLED, headers=headers).status_code == 201
    prefix = headers["Authorization"].removeprefix("Bearer ")[:12]
    assert client.delete(f"/api/v1/tokens/{prefix}", headers=headers).status_code == 200
    refused(client, settings, headers, 401, "revoked")

    expiring = bearer(add_user_with_token(url, "dave"))
    with session_scope(url) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == expiring["Authorization"].removeprefix("Bearer ")[:12])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused(client, settings, expiring, 401, "expired")

    erin = member_headers(url, "erin")
    assert client.get("/api/v1/me", headers=erin).json()["name"] == "erin"
    with session_scope(url) as session:
        accounts.disable_user(session, accounts.get_user(session, "erin"))
    refused(client, settings, erin, 401, "disabled")


def test_a_member_is_refused_on_admin_routes_and_on_others_jobs(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    alice, bob = member_headers(url, "alice"), member_headers(url, "bob")
    request_id = client.post("/api/v1/models", json=BUNDLED, headers=alice).json()["request_ids"][0]
    before = written(settings)
    for method, path, body in [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"name": "mallory"}),
        ("GET", "/api/v1/audit", None),
        ("PATCH", f"/api/v1/requests/{request_id}", {"priority": 5}),
        ("POST", f"/api/v1/requests/{request_id}/cancel", None),
    ]:
        response = client.request(method, path, json=body, headers=bob)
        assert response.status_code == 403, (path, response.text)
        assert "administrator" in response.json()["detail"]
    assert written(settings) == before
    assert client.get(f"/api/v1/requests/{request_id}").json()["status"] == "PENDING"


def test_tokens_are_shown_once_listed_by_prefix_and_revoked_by_their_owner(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    alice, bob = member_headers(url, "alice"), member_headers(url, "bob")
    issued = client.post("/api/v1/tokens", json={"label": "laptop", "expires_days": 30}, headers=alice)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("evb_") and len(token) >= 4 + 43
    listed = client.get("/api/v1/tokens", headers=alice)
    assert token not in listed.text and issued.json()["prefix"] in listed.text
    assert all(row["user"] == "alice" for row in listed.json())
    assert client.get("/api/v1/me", headers=bearer(token)).json()["name"] == "alice"
    assert client.delete(f"/api/v1/tokens/{issued.json()['prefix']}", headers=bob).status_code == 403
    assert client.post("/api/v1/tokens", json={"user": "bob"}, headers=alice).status_code == 403
    assert client.delete(f"/api/v1/tokens/{issued.json()['prefix']}", headers=alice).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with session_scope(url) as session:  # stored as a hash only
        assert all(token not in (row.token_hash, row.prefix) for row in session.scalars(select(ApiToken)))


def test_weekly_quota_is_429_with_retry_after_and_admins_are_exempt(
    client: TestClient, settings: Settings
) -> None:
    settings.submissions_per_week = 2
    url = settings.resolved_database_url
    alice = member_headers(url, "alice")
    assert (
        client.post(
            "/api/v1/models", json={**BUNDLED, "suites": ["smoke", "kobench"]}, headers=alice
        ).status_code
        == 201
    )
    before = written(settings)
    over = client.post("/api/v1/models", json={**BUNDLED, "suites": ["gen-ko"]}, headers=alice)
    assert over.status_code == 429
    assert 6 * 86400 < int(over.headers["retry-after"]) <= 7 * 86400 + 1
    assert "weekly limit reached" in over.json()["detail"] and "UTC" in over.json()["detail"]
    assert written(settings) == before
    too_many = client.post(
        "/api/v1/models",
        json={**BUNDLED, "suites": ["smoke", "gen-ko", "kobench"]},
        headers=member_headers(url, "bob"),
    )
    assert too_many.status_code == 429 and "submit fewer suites" in too_many.json()["detail"]
    admin = admin_headers(url)
    assert (
        client.post(
            "/api/v1/models", json={**BUNDLED, "suites": ["gen-ko", "judge-en", "judge-ko"]}, headers=admin
        ).status_code
        == 201
    )


def _limited(settings: Settings, limit: str, storage: str) -> TestClient:
    return TestClient(
        create_app(settings.model_copy(update={"rate_limit": limit, "rate_limit_storage": storage}))
    )


def test_rate_limit_is_429_with_retry_after_per_caller(settings: Settings) -> None:
    url = settings.resolved_database_url
    alice, bob = member_headers(url, "alice"), member_headers(url, "bob")
    with _limited(settings, "3/minute", "memory://") as client:
        assert [client.get("/api/v1/me", headers=alice).status_code for _ in range(3)] == [200] * 3
        limited = client.get("/api/v1/me", headers=alice)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert "rate limit" in limited.json()["detail"]
        assert client.get("/api/v1/me", headers=bob).status_code == 200  # each caller has their own
        before = written(settings)
        assert client.post("/api/v1/models", json=BUNDLED, headers=alice).status_code == 429
        assert written(settings) == before


def test_two_api_processes_share_one_count_through_redis(settings: Settings) -> None:
    """Two apps, each with its own limiter: in memory each allows the full budget; through the real
    Redis they share it."""
    alice = member_headers(settings.resolved_database_url, f"alice-{uuid.uuid4().hex[:6]}")
    with (
        _limited(settings, "4/minute", "memory://") as one,
        _limited(settings, "4/minute", "memory://") as two,
    ):
        assert [c.get("/api/v1/me", headers=alice).status_code for c in (one, two) * 4] == [200] * 8
    alice = member_headers(settings.resolved_database_url, f"alice-{uuid.uuid4().hex[:6]}")
    with _limited(settings, "4/minute", REDIS) as one, _limited(settings, "4/minute", REDIS) as two:
        codes = [c.get("/api/v1/me", headers=alice).status_code for c in (one, two) * 3]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_bodies_over_the_limit_are_413_before_anything_runs(client: TestClient, settings: Settings) -> None:
    admin = admin_headers(settings.resolved_database_url)
    big = b'{"predictions": ["' + b"x" * 1_100_000 + b'"]}'
    response = client.post(
        "/api/v1/score", content=big, headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 413 and "1,000,000 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(12):
            yield b"x" * 100_000

    chunked = client.post(
        "/api/v1/models", content=chunks(), headers={**admin, "content-type": "application/json"}
    )
    assert chunked.status_code == 413
    assert written(settings)[:3] == (0, 0, 0)


def test_the_token_cache_is_cleared_by_revocation_in_the_same_process(settings: Settings) -> None:
    token_cache.clear()
    headers = member_headers(settings.resolved_database_url, "frank")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        with session_scope(settings.resolved_database_url) as session:
            accounts.revoke_token(session, accounts.find_token(session, headers["Authorization"][7:19]))
        assert client.get("/api/v1/me", headers=headers).status_code == 401
