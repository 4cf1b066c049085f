"""Honest ranks in a real browser: two models the items cannot tell apart carry the tie mark, with its
explanation in a tooltip; a model clearly above the next does not; the model page shows the intervals."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.config import Settings
from tests.support.board_seed import SeedModel, seed

BENCHMARKS = ("mmlu_en_mini", "kmmlu_ko_mini", "short_answer")


def _model(name: str, right: int, n: int = 24) -> SeedModel:
    items = [1.0] * right + [0.0] * (n - right)
    return SeedModel(name, {b: right / n for b in BENCHMARKS}, items={b: list(items) for b in BENCHMARKS})


def test_tied_neighbours_carry_the_tie_mark(page: Page, site: str, board_settings: Settings) -> None:
    ids = seed(
        board_settings.resolved_database_url,
        [_model("clear-leader", 24), _model("twin-one", 12), _model("twin-two", 12)],
    )
    page.goto(f"{site}/?lang=en")
    leader, twin = (page.locator(f'tr[data-model-id="{model_id}"] td.rank') for model_id in ids[:2])
    expect(leader).to_have_text("1")  # 1.0 in every resample: no mark
    expect(twin.locator("span.tie")).to_have_text("≈")
    expect(twin.locator("span.tie")).to_have_attribute("title", "≈ Tied with rank 3: in a paired bootstrap "
        "over the items both models answered, #2 came out above #3 in only 0.50 of 1,000 resamples "
        "(95 % needed). See About: honest ranks.")  # fmt: skip
    expect(twin).to_have_attribute("data-rank-interval", "2–3")
    expect(page.locator("tbody span.tie")).to_have_count(1)
    page.click("#ties-note")
    expect(page.locator("#honest-ranks h2")).to_be_visible()
    page.goto(f"{site}/models/{ids[1]}?lang=en")
    standing = page.locator("#standing-smoke-hub")
    expect(standing).to_contain_text("95 % interval")
    expect(standing).to_contain_text("rank interval 2–3")
    expect(standing.locator(".tie")).to_contain_text("not distinguishable from rank 3")
