"""Who is signed in, as the pages show it, on both databases: the nav, the submit page's queue (whose
request, cancel buttons only where the reader may cancel), the fine-tune form, and the /admin page
(administrators only: a member gets a 403 page, a visitor the sign-in page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.auth.tables import Role
from app.config import Settings
from app.main import create_app
from tests.support.auth import bearer
from tests.support.signin import add_person, sign_in_client

HTML = {"Accept": "text/html"}
BUNDLED = "bundled:smollm2-135m-instruct"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _row(html: str, request_id: int) -> str:
    found = re.search(rf'<tr data-request-id="{request_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for request {request_id}"
    return found.group(1)


def test_the_queue_marks_your_requests_and_offers_cancel_only_on_them(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    add_person(url, "alice")
    bob = add_person(url, "bob")
    admin = add_person(url, "root", Role.ADMIN)
    theirs = client.post("/api/v1/models", json={"model": BUNDLED}, headers=bearer(bob))
    assert theirs.status_code == 201, theirs.text
    mine = client.post(
        "/api/v1/models", json={"model": BUNDLED, "precision": "float32"}, headers=bearer(admin)
    )
    assert mine.status_code == 201, mine.text
    bobs, roots = theirs.json()["request_ids"][0], mine.json()["request_ids"][0]

    visitor = client.get("/submit?lang=en", headers=HTML).text
    assert "cancel" not in _row(visitor, bobs) and "bob" in _row(visitor, bobs)

    sign_in_client(client, "alice")
    page = client.get("/submit?lang=en", headers=HTML).text
    assert 'data-me="alice"' in page and "Signed in as alice (member)" in page
    assert 'class="cancel"' not in page and 'class="yours"' not in page
    assert 'href="/admin"' not in page

    with TestClient(create_app(settings)) as root:
        sign_in_client(root, "root")
        page = root.get("/submit?lang=en", headers=HTML).text
        assert 'class="yours"' in _row(page, roots) and 'class="yours"' not in _row(page, bobs)
        assert 'class="cancel"' in _row(page, bobs) and 'class="cancel"' in _row(page, roots)  # an admin
        assert 'href="/admin"' in page


def test_the_finetune_form_needs_a_signed_in_member(client: TestClient, settings: Settings) -> None:
    add_person(settings.resolved_database_url, "alice")
    page = client.get("/finetunes", headers=HTML).text
    assert 'id="signin-prompt"' in page and 'id="finetune-form"' not in page
    sign_in_client(client, "alice")
    page = client.get("/finetunes", headers=HTML).text
    assert 'id="finetune-form"' in page and 'name="csrf-token"' in page


def test_the_admin_page_is_for_administrators(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    member_token = add_person(url, "alice")
    admin_token = add_person(url, "root", Role.ADMIN)
    created = client.post("/api/v1/models", json={"model": BUNDLED}, headers=bearer(member_token))
    model_id = created.json()["model_id"]
    flagged = client.post(
        f"/api/v1/models/{model_id}/flag", json={"reason": "<b>too good</b>"}, headers=bearer(admin_token)
    )
    assert flagged.status_code == 200, flagged.text

    away = client.get("/admin", headers=HTML, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/signin?next=/admin"
    assert client.get("/admin").status_code == 401  # an API client gets the JSON answer

    sign_in_client(client, "alice")
    refused = client.get("/admin?lang=en", headers=HTML)
    assert refused.status_code == 403 and 'id="problem"' in refused.text and "Not allowed" in refused.text

    with TestClient(create_app(settings)) as root:
        sign_in_client(root, "root")
        page = root.get("/admin?lang=en", headers=HTML)
        assert page.status_code == 200
        text = page.text
        assert member_token[:12] in text and member_token not in text and admin_token not in text
        assert 'data-user="alice"' in text and 'data-user="root"' in text
        assert f'<tr data-model-id="{model_id}">' in text
        assert "&lt;b&gt;too good&lt;/b&gt;" in text and "<b>too good</b>" not in text
        assert "model.flag" in text  # the audit log
        assert 'data-path="/api/v1/requests/{id}/requeue"' in text
