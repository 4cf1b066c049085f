"""The pages in a real browser (Debian Chromium through Playwright) against the real app on
loopback HTTP and a real SQLite database."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, LlmModel, RequestStatus
from tests.browser.conftest import SCREENSHOTS
from tests.support.auth import bearer
from tests.support.board_seed import SeedModel, seed
from tests.support.signin import add_person, sign_in_page

HOSTILE = "<script>alert(1)</script>"


def _seed_board(settings: Settings) -> list[int]:
    return seed(
        settings.resolved_database_url,
        [
            SeedModel(
                "llama-ko-7b",
                {"mmlu_en_mini": 0.61, "kmmlu_ko_mini": 0.52, "short_answer": 0.40},
                model_type="fine_tuned",
                params_b=7.0,
                licence="llama3",
            ),
            SeedModel(
                "qwen-chat-1.5b",
                {"mmlu_en_mini": 0.55, "kmmlu_ko_mini": 0.47, "short_answer": 0.35},
                model_type="chat",
                params_b=1.5,
                licence="apache-2.0",
            ),
            SeedModel(
                "solar-merge-70b",
                {"mmlu_en_mini": 0.80, "kmmlu_ko_mini": 0.70, "short_answer": 0.60},
                model_type="merge",
                params_b=70.0,
                precision="float16",
                flags=["contaminated"],
            ),
            SeedModel(
                "tiny-chat-0.1b",
                {"mmlu_en_mini": 0.26, "kmmlu_ko_mini": 0.90, "short_answer": 0.05},
                model_type="chat",
                params_b=0.135,
                licence="mit",
            ),
            SeedModel(
                HOSTILE, {"mmlu_en_mini": 0.30, "kmmlu_ko_mini": 0.30, "short_answer": 0.30}, licence=HOSTILE
            ),
        ],
    )


def _model_names(page: Page) -> list[str]:
    return page.locator("#leaderboard tbody td.model a").all_inner_texts()


def test_board_renders_ranked_models_with_stderr_and_a_scatter(
    page: Page, site: str, board_settings: Settings
) -> None:
    _seed_board(board_settings)
    page.goto(f"{site}/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")  # Korean by default
    assert _model_names(page) == [
        "solar-merge-70b",
        "llama-ko-7b",
        "qwen-chat-1.5b",
        "tiny-chat-0.1b",
        HOSTILE,
    ]
    cell = page.locator("#leaderboard tbody tr").first.locator('td[data-benchmark="mmlu_en_mini"]')
    expect(cell).to_have_text("80.00")
    expect(cell).to_have_attribute("title", re.compile(r"± 1\.00 \(n=24\)"))
    expect(page.locator("#leaderboard tbody tr.flagged .flag")).to_have_count(1)
    expect(page.locator("#scatter svg circle")).to_have_count(5)


def test_filter_by_type_and_size_search_and_sort(page: Page, site: str, board_settings: Settings) -> None:
    _seed_board(board_settings)
    page.goto(f"{site}/?lang=en")
    page.locator('#filters input[name="type"][value="chat"]').check()
    page.locator("#apply").click()
    expect(page).to_have_url(re.compile(r"type=chat"))
    assert _model_names(page) == ["qwen-chat-1.5b", "tiny-chat-0.1b"]
    assert page.locator("#leaderboard tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)") == [
        "chat",
        "chat",
    ]
    page.locator("#filters").get_by_label("≤ 3B").check()
    page.locator("#apply").click()
    expect(page).to_have_url(re.compile(r"size=0-3"))
    assert _model_names(page) == ["qwen-chat-1.5b", "tiny-chat-0.1b"]
    page.goto(f"{site}/?lang=en&size=7-65&size=65%2B")
    assert _model_names(page) == ["solar-merge-70b"]
    page.goto(f"{site}/?lang=en&size=3-7")  # a preset's upper bound is inclusive: 7B is in 3-7B
    assert _model_names(page) == ["llama-ko-7b"]

    page.goto(f"{site}/?lang=en")
    page.locator("#search").fill("llama; @type:merge")
    page.locator("#search").press("Enter")
    assert sorted(_model_names(page)) == ["llama-ko-7b", "solar-merge-70b"]
    expect(page.locator("#total")).to_have_text("2 models match")

    page.goto(f"{site}/?lang=en")
    header = page.locator('th[data-sort="kmmlu_ko_mini"] a')
    header.click()  # best first
    expect(page.locator('th[data-sort="kmmlu_ko_mini"]')).to_have_attribute("aria-sort", "descending")
    assert _model_names(page)[0] == "tiny-chat-0.1b"
    page.locator('th[data-sort="kmmlu_ko_mini"] a').click()  # flips
    expect(page.locator('th[data-sort="kmmlu_ko_mini"]')).to_have_attribute("aria-sort", "ascending")
    assert _model_names(page)[0] == HOSTILE
    values = page.locator('#leaderboard tbody td[data-benchmark="kmmlu_ko_mini"]').all_inner_texts()
    assert [float(v) for v in values] == sorted(float(v) for v in values)


def test_language_toggle_switches_and_is_remembered(page: Page, site: str, board_settings: Settings) -> None:
    _seed_board(board_settings)
    page.goto(f"{site}/?type=chat")
    expect(page.locator("header")).to_contain_text("리더보드")
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header")).to_contain_text("Leaderboard")
    expect(page).to_have_url(re.compile(r"type=chat"))  # the view survives the switch
    page.goto(f"{site}/submit")  # the cookie remembers English
    expect(page.locator("h1")).to_have_text("Submit a model")
    page.locator("#lang-switch").click()
    expect(page.locator("h1")).to_have_text("모델 제출")


def test_submitting_through_the_form_shows_the_pending_entry(
    page: Page, site: str, board_settings: Settings
) -> None:
    add_person(board_settings.resolved_database_url, "alice")
    sign_in_page(page, site, "alice")
    page.goto(f"{site}/submit?lang=en")
    expect(page.locator("#queue-updated")).to_have_attribute("data-live", "on")  # the live queue runs
    page.locator("#model").fill("bundled:smollm2-135m-instruct")
    page.locator("#precision").select_option("float32")
    page.locator("#submit-button").click()
    expect(page.locator("#submitted")).to_be_visible()
    pending = page.locator("#queue-pending tbody tr")
    expect(pending).to_have_count(1)
    expect(pending.first).to_contain_text("SmolLM2-135M-Instruct")
    expect(pending.first).to_contain_text("smoke")

    # The same validation as the API, with the message beside the field and nothing queued.
    page.locator("#model").fill("bundled:smollm2-135m-instruct")
    page.locator("#weight_type").select_option("adapter")
    page.locator("#submit-button").click()
    expect(page.locator("#form-error")).to_contain_text("needs base_model")
    expect(page.locator("#model")).to_have_value("bundled:smollm2-135m-instruct")  # the form is kept
    expect(page.locator("#queue-pending tbody tr")).to_have_count(1)


def test_queue_updates_without_a_reload_and_a_failed_request_shows_its_reason(
    page: Page, site: str, board_settings: Settings
) -> None:
    page.goto(f"{site}/submit?lang=en")
    expect(page.locator("#queue-updated")).to_have_attribute("data-live", "on")
    page.evaluate("window.__same_document = true")
    token = add_person(board_settings.resolved_database_url, "alice")
    created = httpx.post(
        f"{site}/api/v1/models", json={"model": "bundled:smollm2-135m-instruct"}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["request_ids"][0]
    expect(page.locator(f'#queue-pending tr[data-request-id="{request_id}"]')).to_be_visible(timeout=10_000)
    with session_scope(board_settings.resolved_database_url) as session:
        runs.mark_running(session, request_id, "worker-1", 1)
        runs.record_progress(session, request_id, progress=0.5, current_task="kmmlu_ko_mini", log_tail="")
    running = page.locator(f'#queue-running tr[data-request-id="{request_id}"]')
    expect(running).to_contain_text("kmmlu_ko_mini", timeout=10_000)
    expect(running).to_contain_text("50%")
    with session_scope(board_settings.resolved_database_url) as session:
        runs.mark_failed_or_pending(
            session,
            request_id,
            error="model load failed: CUDA out of memory; try precision 8bit",
            log_tail="Traceback ...\nRuntimeError: CUDA out of memory",
            final=True,
        )
    failed = page.locator(f'#queue-failed tr[data-request-id="{request_id}"]')
    expect(failed).to_contain_text("CUDA out of memory; try precision 8bit", timeout=10_000)
    failed.locator("summary").click()
    expect(failed.locator("pre.log")).to_contain_text("RuntimeError: CUDA out of memory")
    assert page.evaluate("window.__same_document") is True  # no reload happened
    page.reload()  # and the server-rendered page says the same
    expect(page.locator(f'#queue-failed tr[data-request-id="{request_id}"]')).to_contain_text(
        "CUDA out of memory; try precision 8bit"
    )


def test_user_supplied_text_is_shown_as_text(page: Page, site: str, board_settings: Settings) -> None:
    (hostile_id,) = [i for i in _seed_board(board_settings)][-1:]
    with session_scope(board_settings.resolved_database_url) as session:
        model = session.get(LlmModel, hostile_id)
        assert model is not None
        request = EvalRequest(model_id=model.id, suite="kobench", status=RequestStatus.PENDING)
        session.add(request)
        session.flush()
        runs.mark_failed_or_pending(session, request.id, error=HOSTILE, log_tail=HOSTILE, final=True)
    for path in ("/", "/submit", f"/models/{hostile_id}", f"/compare?ids=1,{hostile_id}"):
        page.goto(f"{site}{path}{'&' if '?' in path else '?'}q={HOSTILE}" if path == "/" else f"{site}{path}")
        if path == "/submit":
            expect(page.locator("#queue-updated")).to_have_attribute("data-live", "on")  # JS drew it too
        expect(page.get_by_text(HOSTILE).first).to_be_visible()
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") <= 1, path


def test_model_compare_and_about_pages_render_charts_without_javascript(
    browser: Browser, site: str, board_settings: Settings
) -> None:
    ids = _seed_board(board_settings)
    best, second = ids[2], ids[0]
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    tab = context.new_page()
    try:
        tab.goto(f"{site}/models/{best}")
        expect(tab.locator("h1")).to_contain_text("solar-merge-70b")
        expect(tab.locator("svg").first).to_be_visible()  # server-drawn: no script needed
        expect(tab.locator("body")).to_contain_text("± 1.00")
        tab.goto(f"{site}/compare?ids={best},{second}")
        expect(tab.locator("svg").first).to_be_visible()
        expect(tab.locator("body")).to_contain_text("significant")
        tab.goto(f"{site}/about")
        for name in ("KMMLU", "HAE-RAE", "IFEval", "GSM8K"):
            expect(tab.locator("body")).to_contain_text(name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / "about-no-javascript.png"), full_page=True)
    finally:
        context.close()
