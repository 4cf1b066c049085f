"""The board's read path (migration 0009): stored row payloads, benchmark cells and memoized counts
give the same rows as the ORM rows they were rendered from, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from app.config import Settings
from app.db import session_scope
from app.leaderboard.bootstrap import LEVEL
from app.leaderboard.entries import admin_flag_reason
from app.leaderboard.schemas import LeaderboardRow, Score
from app.main import create_app
from app.tables import BoardCell, FineTune, LeaderboardEntry, LlmModel
from tests.conftest import make_settings
from tests.support.board_seed import SeedModel, seed

BENCHMARKS = ("mmlu_en_mini", "kmmlu_ko_mini", "short_answer")


def _models() -> list[SeedModel]:
    models = []
    for index in range(12):
        scores = {name: round(0.2 + 0.05 * ((index * (k + 3)) % 13), 3) for k, name in enumerate(BENCHMARKS)}
        if index == 4:
            del scores["short_answer"]  # incomplete: no average, no cell for that benchmark
        items = {name: [float((index + item) % 3 == 0) for item in range(30)] for name in scores}
        models.append(
            SeedModel(
                name=f"model-{index}",
                scores=scores,
                weight_type="adapter" if index % 5 == 1 else "original",
                flags=["contaminated"] if index == 7 else [],
                params_b=None if index == 3 else 1.0 + index,
                items=items,
            )
        )
    return models


def _expected(entry: LeaderboardEntry) -> dict[str, Any]:
    """The row as the ORM entry says it should read (the pydantic path the payload replaced)."""
    pairs = entry.pair_stats or {}
    scores = {}
    for name, cell in (entry.scores or {}).items():
        p = pairs.get(name)
        scores[name] = Score(**cell, p_above_next=p, tied_with_next=None if p is None else p < LEVEL)
    flags = list(entry.flags or [])
    own = {name: getattr(entry, name) for name in LeaderboardRow.model_fields if hasattr(entry, name)}
    own.pop("scores")
    row = LeaderboardRow(
        **own,
        model=entry.name,
        flag_reason=admin_flag_reason(flags),
        scores=scores,
    )
    return row.model_dump(mode="json", exclude={"lineage"})


def _pages(client: TestClient, query: str = "") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = ""
    while True:
        page = client.get(f"/api/v1/leaderboard?suite=smoke&limit=5{query}{after}").json()
        rows += page["rows"]
        if page["next_after"] is None:
            return rows
        after = f"&after={page['next_after']}"


def test_stored_payloads_read_as_the_entries_they_were_rendered_from(settings: Settings) -> None:
    url = settings.resolved_database_url
    seed(url, _models())
    with TestClient(create_app(settings)) as client:
        served = {row["model_id"]: row for row in _pages(client)}
        with session_scope(url) as session:
            entries = list(session.scalars(select(LeaderboardEntry)))
            assert all(entry.payload for entry in entries)
            expected = {entry.model_id: _expected(entry) for entry in entries}
        assert any(row["p_above_next"] is not None for row in served.values())  # figures are in it
        assert all("lineage" in row for row in served.values())  # null when there is none, as before
        without_lineage = {
            key: {k: v for k, v in row.items() if k != "lineage"} for key, row in served.items()
        }
        assert without_lineage == expected
        # Rows from before stored payloads (NULL) read the same, rendered on the fly.
        with session_scope(url) as session:
            session.execute(update(LeaderboardEntry).values(payload=None))
        assert {row["model_id"]: row for row in _pages(client)} == served


def test_benchmark_sorts_keep_rows_without_a_cell_last_by_model_id(settings: Settings) -> None:
    url = settings.resolved_database_url
    ids = seed(url, _models())
    with session_scope(url) as session:  # as if the benchmark was added after these rows were written
        dropped = sorted(ids)[5:8]
        entry_ids = select(LeaderboardEntry.id).where(LeaderboardEntry.model_id.in_(dropped))
        session.execute(
            delete(BoardCell).where(BoardCell.benchmark == "mmlu_en_mini", BoardCell.entry_id.in_(entry_ids))
        )
    with TestClient(create_app(settings)) as client:
        for order in ("desc", "asc"):
            rows = _pages(client, f"&sort=mmlu_en_mini&order={order}")
            assert sorted(row["model_id"] for row in rows) == sorted(ids)  # none lost, none repeated
            tail = [row["model_id"] for row in rows[-len(dropped) :]]
            assert tail == sorted(dropped)
            values = [row["scores"]["mmlu_en_mini"]["value"] for row in rows[: -len(dropped)]]
            assert values == sorted(values, reverse=order == "desc")


def test_totals_follow_the_board_version_with_the_view_cache_off(settings: Settings) -> None:
    url = settings.resolved_database_url
    seed(url, _models()[:3])
    app = create_app(make_settings(settings.home, url, view_cache=False))
    with TestClient(app) as client:
        view = "/api/v1/leaderboard?suite=smoke&q=model"
        assert client.get(view).json()["total"] == 3
        assert client.get(view).json()["total"] == 3  # the memoized count
        seed(url, [SeedModel(name="model-new", scores=dict.fromkeys(BENCHMARKS, 0.5))])
        body = client.get(view).json()
        assert body["total"] == 4 and "model-new" in [row["model"] for row in body["rows"]]


def test_benchmark_headers_carry_their_metric_as_a_real_title(settings: Settings) -> None:
    seed(settings.resolved_database_url, _models()[:2])
    with TestClient(create_app(settings)) as client:
        page = client.get("/?suite=smoke&lang=en").text
    assert 'data-sort="mmlu_en_mini"' in page
    assert "title=&#34;" not in page  # the title used to be escaped into the tag as text
    header = page[page.index("<th", page.index('data-sort="average"')) :]
    assert header.startswith('<th title="')


def test_lineage_names_the_oldest_base_row_the_latest_job_and_the_change(settings: Settings) -> None:
    """One query reads each adapter's base, job and base row: the base's scores give the change, the
    latest of two jobs is named, and a base with no row on the board is named without a change."""
    url = settings.resolved_database_url
    scores = {"base": 0.5, "tuned": 0.7, "other": 0.3, "orphan": 0.6}
    base_id, tuned_id, other_id, orphan_id = seed(
        url,
        [
            SeedModel(name=name, scores=dict.fromkeys(BENCHMARKS, value), weight_type=weight)
            for name, value, weight in (
                ("base", scores["base"], "original"),
                ("tuned", scores["tuned"], "adapter"),
                ("other", scores["other"], "adapter"),
                ("orphan", scores["orphan"], "adapter"),
            )
        ],
    )
    with session_scope(url) as session:
        session.execute(update(LlmModel).where(LlmModel.id == orphan_id).values(base_model="org/missing"))
        jobs = [
            FineTune(base_model_id=base_id, base_reference="org/base", dataset_name=f"d{n}.jsonl",
                     tuned_model_id=tuned_id)
            for n in range(2)
        ]  # fmt: skip
        session.add_all(jobs)
        session.flush()
        latest_job = max(job.id for job in jobs)
    with TestClient(create_app(settings)) as client:
        rows = {row["model_id"]: row for row in _pages(client)}
    assert rows[base_id]["lineage"] is None
    tuned = rows[tuned_id]["lineage"]
    assert (tuned["base_model"], tuned["base_model_id"], tuned["base_name"]) == ("org/base", base_id, "base")
    assert tuned["finetune_id"] == latest_job
    assert tuned["delta_average"] == pytest.approx(scores["tuned"] - scores["base"])
    assert tuned["delta"] == pytest.approx(dict.fromkeys(BENCHMARKS, scores["tuned"] - scores["base"]))
    other = rows[other_id]["lineage"]
    assert (other["base_model_id"], other["finetune_id"]) == (base_id, None)
    assert other["delta_average"] == pytest.approx(scores["other"] - scores["base"])
    orphan = rows[orphan_id]["lineage"]
    assert (orphan["base_model"], orphan["base_model_id"], orphan["base_name"]) == ("org/missing", None, None)
    assert (orphan["delta_average"], orphan["delta"]) == (None, {})
