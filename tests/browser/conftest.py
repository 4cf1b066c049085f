"""Browser fixtures: Debian's Chromium (apt package `chromium`) driven by Playwright through
executable_path. No browser is ever downloaded: `playwright install` is not part of set-up.

Screenshots of every browser test are kept under test-artifacts/browser/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import Settings
from tests.conftest import make_settings
from tests.support.live_server import live_server

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str:
    configured = os.environ.get("EVALBOARD_CHROMIUM")
    found = configured or next((p for p in map(shutil.which, CHROMIUM_CANDIDATES) if p), None)
    if not found:
        raise RuntimeError(
            "browser tests need Debian's chromium: `apt-get install chromium fonts-noto-cjk` (make test "
            "does this), or set EVALBOARD_CHROMIUM to a Chromium binary"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: while Playwright's sync API is open its event loop counts as running
    # in this thread, and the lm-eval API models of later tests call asyncio.run(), which refuses.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def board_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return make_settings(tmp_path, sqlite_url)


@pytest.fixture
def site(board_settings: Settings) -> Iterator[str]:
    with live_server(board_settings) as base:
        yield base


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context per test (its own cookies); any alert() fails the test, and a
    screenshot of the last page is kept whatever the outcome."""
    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert dialogs == [], f"a page opened a dialog (script injection?): {dialogs}"
    assert errors == [], f"JavaScript errors on the page: {errors}"
