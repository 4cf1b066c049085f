"""Signing in through the real form, for page tests: with a TestClient or a Playwright page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from fastapi.testclient import TestClient

from app.auth.tables import Role
from tests.support.auth import add_user_with_token

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "correct horse battery staple"


class Answer(Protocol):
    """A TestClient response (httpx's or httpx2's, whichever Starlette's client uses)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Any: ...


HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def add_person(database_url: str, name: str, role: str = Role.MEMBER, password: str = PASSWORD) -> str:
    """A user who can sign in with `password`; returns an API token of theirs too."""
    return add_user_with_token(database_url, name, role, password=password)


def form_token(html: str) -> str:
    found = HIDDEN_CSRF.search(html)
    assert found, "the page has no hidden csrf_token field"
    return found.group(1)


def page_token(html: str) -> str:
    found = META_CSRF.search(html)
    assert found, "the page has no csrf-token meta tag"
    return found.group(1)


def post_signin(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/") -> Answer:
    """GET the form (its cookie and token), then POST it as a browser would; redirects not followed."""
    form = client.get("/signin", headers={"Accept": "text/html"})
    assert form.status_code == 200, form.text
    return client.post(
        "/signin",
        data={"name": name, "password": password, "next": next_path, "csrf_token": form_token(form.text)},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )


def sign_in_client(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Signs the client in; returns the session's CSRF token (what the pages' forms and fetches send)."""
    response = post_signin(client, name, password)
    assert response.status_code == 303, response.text
    return page_token(client.get("/about").text)


def sign_in_page(page: Page, site: str, name: str, password: str = PASSWORD, next_path: str = "/") -> None:
    page.goto(f"{site}/signin?next={next_path}")
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    page.locator("#signin-button").click()
    page.locator("#signed-in-as").wait_for()
