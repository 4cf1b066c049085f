"""Web sign-in on both databases: the session cookie's attributes, one answer for every refused
password, the slow-down, CSRF on the forms, sign-out ending the session for every copy of the cookie,
no open redirect, one-time links, and the security headers with the inline scripts' nonce."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.auth import accounts
from app.auth.credentials import digest
from app.auth.signin_links import create_signin_link, signin_link_path
from app.auth.tables import Role, SignInLink, WebSession
from app.auth.web_sessions import CSRF_COOKIE, SESSION_COOKIE
from app.config import Settings
from app.db import session_scope, utcnow
from app.main import create_app
from app.tables import LlmModel
from app.web.signin import local_path
from tests.support.signin import PASSWORD, Answer, add_person, form_token, post_signin, sign_in_client

HTML = {"Accept": "text/html"}
BUNDLED = "bundled:smollm2-135m-instruct"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _set_cookie(response: Answer, name: str) -> str:
    cookies = response.headers.get_list("set-cookie")
    found = [c for c in cookies if c.startswith(f"{name}=")]
    assert found, f"no Set-Cookie for {name}: {cookies}"
    return found[0]


def _count(settings: Settings, table: type) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _error_text(html: str) -> str:
    found = re.search(r'<div class="error" id="signin-error" role="alert">([^<]*)</div>', html)
    assert found, html
    return found.group(1)


def test_signing_in_sets_an_httponly_lax_cookie_that_the_api_accepts(
    client: TestClient, settings: Settings
) -> None:
    add_person(settings.resolved_database_url, "alice")
    form = client.get("/signin", headers=HTML)
    assert form.status_code == 200
    pre = _set_cookie(form, CSRF_COOKIE).lower()
    assert "httponly" in pre and "samesite=lax" in pre and "path=/" in pre
    response = post_signin(client, "Alice", next_path="/submit")  # names are matched in lower case
    assert response.status_code == 303 and response.headers["location"] == "/submit"
    cookie = _set_cookie(response, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert f"max-age={int(settings.session_hours * 3600)}" in cookie
    assert "secure" not in cookie  # plain http and cookie_secure unset
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["name"] == "alice"
    page = client.get("/submit", headers=HTML)
    assert "alice" in page.text and 'id="sign-out"' in page.text and 'id="submit-form"' in page.text
    assert page.headers["cache-control"] == "private, no-store"


def test_the_cookie_is_secure_over_https_or_when_configured(settings: Settings) -> None:
    add_person(settings.resolved_database_url, "alice")
    with TestClient(create_app(settings), base_url="https://testserver") as secure_client:
        assert "secure" in _set_cookie(post_signin(secure_client, "alice"), SESSION_COOKIE).lower()
    forced = settings.model_copy(update={"cookie_secure": True})  # TLS ends at a proxy
    with TestClient(create_app(forced)) as plain_client:
        assert "secure" in _set_cookie(plain_client.get("/signin", headers=HTML), CSRF_COOKIE).lower()
    off = settings.model_copy(update={"cookie_secure": False})
    with TestClient(create_app(off), base_url="https://testserver") as secure_client:
        assert "secure" not in _set_cookie(post_signin(secure_client, "alice"), SESSION_COOKIE).lower()


def test_every_refusal_reads_the_same(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    add_person(url, "alice")
    add_person(url, "gone")
    with session_scope(url) as session:
        accounts.disable_user(session, accounts.get_user(session, "gone"))
    answers = [
        post_signin(client, "alice", "not the password"),
        post_signin(client, "nobody-here", PASSWORD),
        post_signin(client, "gone", PASSWORD),  # the right password of a disabled account
        post_signin(client, "alice", "x" * 300),  # past the bound: refused unread
        post_signin(client, "a" * 65, PASSWORD),
    ]
    assert [a.status_code for a in answers] == [401] * len(answers)
    assert len({_error_text(a.text) for a in answers}) == 1
    assert all(SESSION_COOKIE not in a.headers.get("set-cookie", "") for a in answers)
    assert _count(settings, WebSession) == 0


def test_wrong_passwords_slow_sign_in_down_even_for_the_right_one(settings: Settings) -> None:
    strict = settings.model_copy(update={"signin_failures_per_name": "3/minute"})
    add_person(settings.resolved_database_url, "alice")
    with TestClient(create_app(strict)) as client:
        for _ in range(3):
            assert post_signin(client, "alice", "wrong password!").status_code == 401
        refused = post_signin(client, "alice", PASSWORD)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert 'id="signin-error"' in refused.text
        assert post_signin(client, "bob", PASSWORD).status_code == 401  # another name is not slowed
    assert _count(settings, WebSession) == 0


def test_forms_without_their_csrf_token_are_refused_and_write_nothing(
    client: TestClient, settings: Settings
) -> None:
    add_person(settings.resolved_database_url, "alice")
    client.get("/signin", headers=HTML)  # the browser holds the double-submit cookie
    for token in (None, "forged-" + "x" * 40):
        data = {"name": "alice", "password": PASSWORD, **({"csrf_token": token} if token else {})}
        refused = client.post("/signin", data=data, headers=HTML, follow_redirects=False)
        assert refused.status_code == 403, refused.text
        assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert _count(settings, WebSession) == 0

    sign_in_client(client, "alice")
    refused = client.post("/submit", data={"model": BUNDLED}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text and 'id="problem"' in refused.text
    refused = client.post("/api/v1/models", json={"model": BUNDLED})  # a fetch without the header
    assert refused.status_code == 403
    assert _count(settings, LlmModel) == 0


def test_the_submit_form_posts_with_its_token(client: TestClient, settings: Settings) -> None:
    add_person(settings.resolved_database_url, "alice")
    anonymous = client.get("/submit", headers=HTML)
    assert 'id="signin-prompt"' in anonymous.text and 'id="submit-form"' not in anonymous.text
    sign_in_client(client, "alice")
    token = form_token(client.get("/submit", headers=HTML).text)
    done = client.post(
        "/submit", data={"model": BUNDLED, "csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    queue = client.get("/api/v1/queue").json()
    assert [item["submitted_by"] for item in queue["pending"]] == ["alice"]


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(
    client: TestClient, settings: Settings
) -> None:
    add_person(settings.resolved_database_url, "alice")
    csrf = sign_in_client(client, "alice")
    old_cookie = client.cookies[SESSION_COOKIE]
    assert client.post("/signout", headers=HTML, follow_redirects=False).status_code == 403  # no token
    out = client.post("/signout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "max-age=0" in _set_cookie(out, SESSION_COOKIE).lower()
    assert _count(settings, WebSession) == 0
    with TestClient(create_app(settings), cookies={SESSION_COOKIE: old_cookie}) as copy:
        refused = copy.post("/api/v1/models", json={"model": BUNDLED}, headers={"x-csrf-token": csrf})
        assert refused.status_code == 401
        page = copy.get("/submit", headers=HTML)  # a page treats it as a visitor and drops the cookie
        assert 'id="sign-in-link"' in page.text
        assert "max-age=0" in _set_cookie(page, SESSION_COOKIE).lower()
    assert _count(settings, LlmModel) == 0


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example",
        "evil",
        "/" + "a" * 600,
    ],
)
def test_next_never_leaves_the_site(client: TestClient, settings: Settings, target: str) -> None:
    add_person(settings.resolved_database_url, "alice")
    response = post_signin(client, "alice", next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_local_path_keeps_paths_on_this_site() -> None:
    assert local_path("/models/3?run=2#samples") == "/models/3?run=2#samples"
    assert local_path("/%2F%2Fevil.example") == "/%2F%2Fevil.example"  # one path on this site
    for bad in (None, "", "//x", "/\\x", "/\n/x", "/x\\y", "http://x", "javascript:alert(1)"):
        assert local_path(bad) == "/", bad


def test_a_signin_link_works_once(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    add_person(url, "first-admin", Role.ADMIN)
    with session_scope(url) as session:
        user = accounts.get_user(session, "first-admin")
        token = create_signin_link(session, user)
        expired = create_signin_link(session, user, minutes=1)
        link = session.get(SignInLink, digest(expired))
        assert link is not None
        link.expires_at = utcnow() - timedelta(seconds=1)
    used = client.get(signin_link_path(token), headers=HTML, follow_redirects=False)
    assert used.status_code == 303 and used.headers["location"] == "/"
    assert "httponly" in _set_cookie(used, SESSION_COOKIE).lower()
    assert client.get("/api/v1/me").json()["role"] == "admin"
    with TestClient(create_app(settings)) as other:
        again = other.get(signin_link_path(token), headers=HTML, follow_redirects=False)
        assert again.status_code == 410 and 'id="signin-error"' in again.text
        assert SESSION_COOKIE not in again.headers.get("set-cookie", "")
        assert other.get(signin_link_path(expired), headers=HTML).status_code == 410
        assert other.get(signin_link_path("made-up-token"), headers=HTML).status_code == 400
        assert other.get("/signin/link?token=" + "x" * 200, headers=HTML).status_code == 400
        assert other.get("/signin/link", headers=HTML).status_code == 400
    assert _count(settings, WebSession) == 1


PAGES = ("/", "/?suite=smoke&lang=en", "/submit", "/finetunes", "/compare", "/about", "/signin", "/admin")


def _check_page_headers(response: Answer, path: str) -> str:
    headers = response.headers
    csp = headers["content-security-policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", csp)
    assert nonce, (path, csp)
    script_src = csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in script_src
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    tags = re.findall(r"<script\b[^>]*>", response.text)
    assert all(f'nonce="{nonce.group(1)}"' in tag for tag in tags), (path, tags)
    return nonce.group(1)


def test_every_page_has_the_security_headers_and_its_scripts_the_nonce(
    client: TestClient, settings: Settings
) -> None:
    add_person(settings.resolved_database_url, "root", Role.ADMIN)
    for path in PAGES[:-1]:
        _check_page_headers(client.get(path, headers=HTML), path)
    sign_in_client(client, "root")
    scripts = 0
    for path in PAGES:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, (path, response.text[:300])
        _check_page_headers(response, path)
        scripts += response.text.count("<script")
    assert scripts >= 3  # the submit, fine-tune and admin pages do have inline scripts
    # The board is served from the view cache for visitors: each copy gets its own response's nonce.
    with TestClient(create_app(settings)) as visitor:
        first, second = visitor.get("/", headers=HTML), visitor.get("/", headers=HTML)
        assert _check_page_headers(first, "/") != _check_page_headers(second, "/")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_the_pre_signin_token_is_kept_and_never_cached_into_the_board(
    client: TestClient, settings: Settings
) -> None:
    form = client.get("/signin", headers=HTML)
    token = form_token(form.text)
    assert client.cookies[CSRF_COOKIE] == token
    assert form_token(client.get("/signin", headers=HTML).text) == token  # the same while it lasts
    board = client.get("/", headers=HTML).text
    assert token not in board and 'name="csrf-token"' not in board
