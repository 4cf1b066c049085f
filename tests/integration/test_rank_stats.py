"""Honest ranks on both databases: item scores stored with the results, the bootstrap figures stored on
the board's rows when results are written, only the changed neighbours recomputed, and the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.config import Settings
from app.db import session_scope
from app.leaderboard import rank_stats
from app.leaderboard.entries import rebuild_all
from app.tables import ItemScore, ItemSet, LeaderboardEntry
from tests.support.auth import admin_client
from tests.support.board_seed import SeedModel, seed

BENCHMARKS = ("mmlu_en_mini", "kmmlu_ko_mini", "short_answer")
N = 40


def _model(name: str, right: int) -> SeedModel:
    """`right` of the N items right on every benchmark (the same items for everyone)."""
    items = [1.0] * right + [0.0] * (N - right)
    return SeedModel(
        name,
        {benchmark: right / N for benchmark in BENCHMARKS},
        items={benchmark: list(items) for benchmark in BENCHMARKS},
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def _rows(url: str) -> dict[str, LeaderboardEntry]:
    with session_scope(url) as session:
        rows = session.scalars(select(LeaderboardEntry).where(LeaderboardEntry.suite == "smoke")).all()
        session.expunge_all()
        return {row.name: row for row in rows}


def test_figures_are_stored_with_the_results_and_only_neighbours_recomputed(settings: Settings) -> None:
    url = settings.resolved_database_url
    seed(url, [_model("all-right", N), _model("twin-a", 20), _model("twin-b", 20), _model("none-right", 0)])
    with session_scope(url) as session:
        # Four models on three benchmarks share three item sets; scores are 40 bits each.
        assert session.scalar(select(func.count()).select_from(ItemSet)) == 3
        assert session.scalar(select(func.count()).select_from(ItemScore)) == 12
    rows = _rows(url)
    top, twin_a, twin_b, bottom = (rows[n] for n in ("all-right", "twin-a", "twin-b", "none-right"))
    assert [top.rank, twin_a.rank, twin_b.rank, bottom.rank] == [1, 2, 3, 4]
    # Right wherever the next is wrong: above it in every resample; identical twins: P = 1/2, tied.
    assert (top.p_above_next, top.tied_with_next) == (1.0, False)
    assert top.pair_stats == {benchmark: 1.0 for benchmark in BENCHMARKS}
    assert (twin_a.p_above_next, twin_a.tied_with_next) == (0.5, True)
    assert twin_a.pair_stats == {benchmark: 0.5 for benchmark in BENCHMARKS}
    assert (twin_b.p_above_next, twin_b.tied_with_next) == (1.0, False)
    assert (bottom.p_above_next, bottom.tied_with_next, bottom.pair_stats) == (None, None, {})
    assert twin_a.ci_low is not None and twin_a.ci_high is not None
    assert twin_a.ci_low < 0.5 < twin_a.ci_high
    assert (twin_a.ci_low, twin_a.ci_high) == (twin_b.ci_low, twin_b.ci_high)
    assert (top.ci_low, top.ci_high) == pytest.approx((1.0, 1.0))
    # Rank intervals: the twins overlap each other only.
    assert [(r.rank_low, r.rank_high) for r in (top, twin_a, twin_b, bottom)] == [
        (1, 1),
        (2, 3),
        (2, 3),
        (4, 4),
    ]

    # A marker on the top row: no later write may recompute a row whose pair did not change.
    with session_scope(url) as session:
        session.execute(
            update(LeaderboardEntry).where(LeaderboardEntry.id == top.id).values(p_above_next=0.123)
        )
    seed(url, [_model("between", 10)])  # lands between twin-b and none-right
    rows = _rows(url)
    assert rows["all-right"].p_above_next == 0.123  # untouched
    assert rows["twin-b"].stats_key == f"{rows['twin-b'].request_id}>{rows['between'].request_id}"
    assert rows["twin-b"].p_above_next == 1.0 and rows["between"].p_above_next == 1.0
    assert (rows["between"].rank, rows["none-right"].rank) == (4, 5)
    assert (rows["none-right"].rank_low, rows["none-right"].rank_high) == (5, 5)

    # rebuild_all recomputes everything, marker included, to the same figures.
    with session_scope(url) as session:
        rebuild_all(session)
    rebuilt = _rows(url)
    assert rebuilt["all-right"].p_above_next == 1.0
    assert rebuilt["twin-a"].ci_low == twin_a.ci_low
    with session_scope(url) as session:
        assert rank_stats.update_neighbours(session, "smoke", "hub") == []  # nothing stale left


def test_models_without_item_scores_rank_without_figures(settings: Settings) -> None:
    url = settings.resolved_database_url
    seed(url, [_model("with-items", 30), SeedModel("no-items", {b: 0.5 for b in BENCHMARKS})])
    rows = _rows(url)
    assert rows["with-items"].p_above_next is None  # nothing to pair with
    assert (rows["no-items"].ci_low, rows["no-items"].rank_low) == (None, None)
    # The model without items counts as a point at its average: below the other's interval.
    assert (rows["with-items"].rank_low, rows["with-items"].rank_high) == (1, 1)


def test_models_scored_on_different_items_pair_over_the_items_they_share(settings: Settings) -> None:
    url = settings.resolved_database_url
    alternating = [1.0, 0.0] * 20
    full = SeedModel("all-40", {b: 0.5 for b in BENCHMARKS}, items={b: alternating for b in BENCHMARKS})
    # A run limited to the first 20 items, with the same answers there: nothing tells them apart.
    limited = SeedModel(
        "first-20", {b: 0.5 for b in BENCHMARKS}, items={b: alternating[:20] for b in BENCHMARKS}
    )
    seed(url, [full, limited])
    rows = _rows(url)
    upper = min(rows.values(), key=lambda row: row.rank)
    assert (upper.p_above_next, upper.tied_with_next) == (0.5, True)
    assert upper.pair_stats == {benchmark: 0.5 for benchmark in BENCHMARKS}


def test_the_api_serves_the_figures(client: TestClient, settings: Settings) -> None:
    ids = seed(settings.resolved_database_url, [_model("twin-a", 20), _model("twin-b", 20)])
    board = client.get("/api/v1/leaderboard?suite=smoke").json()
    first = board["rows"][0]
    assert (first["tied_with_next"], first["p_above_next"]) == (True, 0.5)
    assert (first["rank_low"], first["rank_high"]) == (1, 2)
    assert first["ci_low"] < first["average"] < first["ci_high"]
    assert first["scores"]["short_answer"]["p_above_next"] == 0.5
    assert first["scores"]["short_answer"]["tied_with_next"] is True
    exported = client.get("/api/v1/leaderboard.json?suite=smoke").json()
    assert exported[0]["tied_with_next"] is True
    model = client.get(f"/api/v1/models/{ids[0]}").json()
    assert [(b["suite"], b["board"], b["rank"]) for b in model["boards"]] == [("smoke", "hub", 1)]
    standing = model["boards"][0]
    assert (standing["ci_low"], standing["ci_high"]) == (first["ci_low"], first["ci_high"])
    assert (standing["rank_low"], standing["rank_high"], standing["tied_with_next"]) == (1, 2, True)
    page = client.get(f"/models/{ids[0]}?lang=en").text
    assert "95 % interval" in page and "rank interval 1–2" in page
