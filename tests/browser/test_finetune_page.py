"""The fine-tune pages in Chromium: the form posts the upload to the API and shows its message,
and a job's page follows the worker's progress (step, ETA, loss curve) without a reload."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from app.config import Settings
from app.db import session_scope
from app.tables import FineTune
from tests.browser.conftest import SCREENSHOTS
from tests.support.signin import add_person, sign_in_page

DATASET = Path(__file__).resolve().parents[1] / "data" / "finetune" / "alpaca_ko_en.jsonl"


def test_a_malformed_upload_shows_the_line_to_fix(
    page: Page, site: str, board_settings: Settings, tmp_path: Path
) -> None:
    add_person(board_settings.resolved_database_url, "alice")
    sign_in_page(page, site, "alice")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": \n', "utf-8")
    page.goto(f"{site}/finetunes?lang=en")
    page.set_input_files("#dataset", str(bad))
    page.click("#start")
    expect(page.locator("#form-error")).to_contain_text("dataset: line 2: not valid JSON")
    assert page.url.endswith("/finetunes?lang=en")  # still on the form


def test_submit_then_watch_the_live_loss_curve_and_cancel(
    page: Page, site: str, board_settings: Settings
) -> None:
    add_person(board_settings.resolved_database_url, "alice")
    sign_in_page(page, site, "alice")
    page.goto(f"{site}/finetunes?lang=en")
    page.set_input_files("#dataset", str(DATASET))
    page.fill("#max_steps", "50")
    page.click("#start")
    page.wait_for_url(f"{site}/finetunes/1")
    expect(page.locator("#status")).to_have_attribute("data-status", "queued")
    assert page.locator("#loss-line").get_attribute("points") == ""

    # What the worker writes while training, as it writes it: the page picks it up by polling.
    with session_scope(board_settings.resolved_database_url) as session:
        finetune = session.get(FineTune, 1)
        assert finetune is not None and finetune.examples == 20
        finetune.status, finetune.step, finetune.total_steps = "training", 3, 50
        finetune.eta_seconds, finetune.tokens_per_second = 141.0, 98.5
        finetune.losses = [[1, 1.2], [2, 0.9], [3, 0.7]]
    expect(page.locator("#status")).to_have_attribute("data-status", "training", timeout=10_000)
    expect(page.locator("#step")).to_have_text("3")
    expect(page.locator("#eta")).to_have_text("141 s")
    points = page.locator("#loss-line").get_attribute("points") or ""
    coordinates = [tuple(map(float, point.split(","))) for point in points.split()]
    assert len(coordinates) == 3
    assert coordinates[0][1] < coordinates[1][1] < coordinates[2][1]  # falling loss: lower on screen
    expect(page.locator("#loss-max")).to_have_text("1.200")
    expect(page.locator("#step-max")).to_have_text("50")  # the axis runs to the planned last step
    expect(page.locator("#loss-points")).to_have_text("3 steps recorded")
    assert coordinates[0][0] == 48.0 and coordinates[2][0] < 100  # 3 of 50 steps: the left end
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "finetune-live.png"), full_page=True)

    page.click("#cancel")
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    with session_scope(board_settings.resolved_database_url) as session:
        finetune = session.get(FineTune, 1)
        assert finetune is not None and finetune.status == "cancelled"
    page.goto(f"{site}/finetunes?lang=ko")
    expect(page.locator("#recent")).to_contain_text("취소됨")
