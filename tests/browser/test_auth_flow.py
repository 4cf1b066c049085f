"""A member's whole visit in Chromium: sign in, submit through the form, see the request queued as
theirs, fail to cancel someone else's (no button, and the API refuses a hand-made request), cancel
their own, sign out. The pages run under the real CSP: a script without its nonce would not run."""

from __future__ import annotations

import httpx
from playwright.sync_api import ConsoleMessage, Page, expect

from app.config import Settings
from tests.browser.conftest import SCREENSHOTS
from tests.support.auth import bearer
from tests.support.signin import add_person, sign_in_page

BUNDLED = "bundled:smollm2-135m-instruct"
CANCEL_BY_HAND = """async (id) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(`/api/v1/requests/${id}/cancel`, {
    method: "POST", headers: {"X-CSRF-Token": csrf},
  });
  return [response.status, (await response.json()).detail];
}"""


def test_sign_in_submit_cancel_only_your_own_and_sign_out(
    page: Page, site: str, board_settings: Settings
) -> None:
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", watch)
    url = board_settings.resolved_database_url
    add_person(url, "alice")
    bob = add_person(url, "bob")

    page.goto(f"{site}/submit?lang=en")
    expect(page.locator("#signin-prompt")).to_be_visible()  # visitors see the queue, not the form
    expect(page.locator("#submit-form")).to_have_count(0)
    page.locator("#signin-prompt a").click()
    page.locator("#name").fill("alice")
    page.locator("#password").fill("not her password")
    page.locator("#signin-button").click()
    expect(page.locator("#signin-error")).to_contain_text("Wrong user name or password")
    sign_in_page(page, site, "alice", next_path="/submit")
    assert page.url.startswith(f"{site}/submit")
    expect(page.locator("#signed-in-as")).to_have_text("Signed in as alice (member)")
    expect(page.locator("#admin-link")).to_have_count(0)

    page.locator("#model").fill(BUNDLED)
    page.locator("#submit-button").click()
    expect(page.locator("#submitted")).to_be_visible()
    expect(page.locator("#queue-updated")).to_have_attribute("data-live", "on")
    mine = page.locator("#queue-pending tbody tr").first
    expect(mine.locator(".yours")).to_have_text("yours", timeout=10_000)
    expect(mine.locator("td.by")).to_contain_text("alice")
    my_id = mine.get_attribute("data-request-id")

    theirs = httpx.post(
        f"{site}/api/v1/models", json={"model": BUNDLED, "precision": "float32"}, headers=bearer(bob)
    )
    assert theirs.status_code == 201, theirs.text
    their_id = theirs.json()["request_ids"][0]
    their_row = page.locator(f'#queue-pending tr[data-request-id="{their_id}"]')
    expect(their_row).to_be_visible(timeout=10_000)  # drawn by the live queue, no reload
    expect(their_row.locator("td.by")).to_have_text("bob")
    expect(their_row.locator("button.cancel")).to_have_count(0)
    expect(their_row.locator(".yours")).to_have_count(0)
    status, detail = page.evaluate(CANCEL_BY_HAND, their_id)
    assert status == 403 and "belongs to someone else" in detail

    page.locator(f'#queue-pending tr[data-request-id="{my_id}"] button.cancel').click()
    expect(page.locator(f'#queue-pending tr[data-request-id="{my_id}"]')).to_have_count(0, timeout=10_000)
    expect(page.locator("#queue-error")).to_be_hidden()
    assert httpx.get(f"{site}/api/v1/requests/{my_id}").json()["status"] == "CANCELLED"
    assert httpx.get(f"{site}/api/v1/requests/{their_id}").json()["status"] == "PENDING"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "auth-flow-queue.png"), full_page=True)

    page.locator("#sign-out").click()
    expect(page.locator("#sign-in-link")).to_be_visible()
    page.goto(f"{site}/submit?lang=en")
    expect(page.locator("#signin-prompt")).to_be_visible()
    expect(page.locator(f'#queue-pending tr[data-request-id="{their_id}"] button.cancel')).to_have_count(0)
    assert blocked == [], f"the CSP blocked something: {blocked}"


def test_an_admin_flags_and_hides_a_model_from_the_admin_page(
    page: Page, site: str, board_settings: Settings
) -> None:
    url = board_settings.resolved_database_url
    add_person(url, "root", role="admin")
    member = add_person(url, "alice")
    created = httpx.post(f"{site}/api/v1/models", json={"model": BUNDLED}, headers=bearer(member))
    model_id = created.json()["model_id"]
    sign_in_page(page, site, "root", next_path="/admin?lang=en")
    expect(page.locator("h1")).to_have_text("Administration")
    expect(page.locator('#users tr[data-user="alice"]')).to_be_visible()
    expect(page.locator("#tokens")).to_contain_text(member[:12])
    expect(page.locator("#tokens")).not_to_contain_text(member)

    page.locator("#model-id").fill(str(model_id))
    page.locator("#flag-reason").fill("scores look copied")
    page.locator("#flag-button").click()
    expect(page.locator("#admin-done")).to_contain_text("Flag")
    row = page.locator(f'#moderated-models tr[data-model-id="{model_id}"]')
    expect(row).to_contain_text("scores look copied")
    row.locator("button.hide").click()
    expect(page.locator(f'#moderated-models tr[data-model-id="{model_id}"] button.unhide')).to_be_visible()
    expect(page.locator("#audit-log")).to_contain_text("model.hide")

    page.locator("#model-id").fill(str(model_id))
    page.locator("#hide-button").click()  # already hidden: the API's message is shown
    expect(page.locator("#admin-error")).to_contain_text("already hidden")
