"""The board's filters, search, sort, keyset pages and exports, on SQLite and PostgreSQL: every view
is checked against the same rows filtered and sorted in Python."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, delete, text

from app.config import Settings
from app.db import session_scope
from app.leaderboard import bulk
from app.leaderboard.entries import BOARD_TABLES, rebuild_all
from app.main import create_app
from app.tables import LeaderboardEntry
from tests.conftest import make_settings
from tests.support.board_seed import SeedModel, seed

KINDS = ["pretrained", "continuously_pretrained", "fine_tuned", "chat", "merge"]
PRECISIONS = ["float16", "bfloat16", "8bit", "4bit"]
LICENCES = ["apache-2.0", "mit", "llama3", None]


def _models(count: int) -> list[SeedModel]:
    rng = random.Random(7)
    models = []
    for index in range(count):
        scores = {name: round(rng.random(), 3) for name in ("mmlu_en_mini", "kmmlu_ko_mini", "short_answer")}
        if index % 11 == 5:
            del scores["short_answer"]  # an incomplete run: no average, ranks last
        if index % 6 == 0:
            scores["kmmlu_ko_mini"] = 0.5  # ties on a benchmark: the keyset must not lose or repeat rows
        models.append(
            SeedModel(
                name=f"{'llama' if index % 3 == 0 else 'qwen'}-{index}",
                scores=scores,
                model_type=KINDS[index % len(KINDS)],
                weight_type="adapter" if index % 7 == 0 else "original",
                precision=PRECISIONS[index % len(PRECISIONS)],
                params_b=None if index % 13 == 0 else [0.5, 2.0, 3.0, 6.0, 7.0, 13.0, 70.0, 180.0][index % 8],
                licence=LICENCES[index % len(LICENCES)],
                flags=["contaminated"] if index % 9 == 4 else [],
            )
        )
    return models


@pytest.fixture
def board(settings: Settings) -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    models = _models(40)
    ids = seed(settings.resolved_database_url, models)
    with TestClient(create_app(settings)) as client:
        rows = _all(client, "")
        by_id = {row["model_id"]: row for row in rows}
        assert sorted(by_id) == sorted(ids)
        yield client, rows


def _all(client: TestClient, query: str, limit: int = 7) -> list[dict[str, Any]]:
    """Every row of a view, by following next_after page to page."""
    rows: list[dict[str, Any]] = []
    after = ""
    for _ in range(100):
        response = client.get(f"/api/v1/leaderboard?suite=smoke&limit={limit}{query}{after}")
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["rows"]
        if page["next_after"] is None:
            assert len(rows) == page["total"]
            return rows
        after = f"&after={page['next_after']}"
    raise AssertionError("pages never ended")


def _expected_order(rows: list[dict[str, Any]], key: Any, descending: bool) -> list[int]:
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    known.sort(key=lambda r: r["model_id"])
    known.sort(key=key, reverse=descending)
    return [r["model_id"] for r in known] + sorted(r["model_id"] for r in unknown)


def test_default_order_is_rank_and_incomplete_runs_come_last(
    board: tuple[TestClient, list[dict[str, Any]]],
) -> None:
    _, rows = board
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    averages = [r["average"] for r in rows]
    complete = [a for a in averages if a is not None]
    assert complete == sorted(complete, reverse=True)
    assert averages[len(complete) :] == [None] * (len(averages) - len(complete)) and len(complete) < len(rows)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("mmlu_en_mini", "desc"),
        ("kmmlu_ko_mini", "asc"),
        ("params", "desc"),
        ("name", "asc"),
        ("average", "asc"),
    ],
)
def test_every_sort_pages_through_every_row_once_in_order(
    board: tuple[TestClient, list[dict[str, Any]]], sort: str, order: str
) -> None:
    client, rows = board
    keys = {
        "params": lambda r: r["params_b"],
        "name": lambda r: r["model"].lower(),
        "average": lambda r: r["average"],
    }
    key = keys.get(sort, lambda r, name=sort: r["scores"][name]["value"] if name in r["scores"] else None)
    got = [r["model_id"] for r in _all(client, f"&sort={sort}&order={order}")]
    assert got == _expected_order(rows, key, order == "desc")


def test_filters_combine_and_keep_the_overall_rank(board: tuple[TestClient, list[dict[str, Any]]]) -> None:
    client, rows = board
    got = _all(client, "&type=chat,merge&precision=8bit&precision=4bit&size=3-7&size=65%2B")
    expected = [
        r
        for r in rows
        if r["kind"] in ("chat", "merge")
        and r["precision"] in ("8bit", "4bit")
        and r["params_b"] is not None
        and (3 < r["params_b"] <= 7 or r["params_b"] > 65)
    ]
    assert [r["model_id"] for r in got] == [r["model_id"] for r in expected] and expected
    assert [r["rank"] for r in got] == [r["rank"] for r in expected]  # ranks on the whole board
    adapters = _all(client, "&type=adapter")
    assert adapters and {r["weight_type"] for r in adapters} == {"adapter"}
    ranged = _all(client, "&min_params=2&max_params=7")
    assert ranged and all(2 <= r["params_b"] <= 7 for r in ranged)
    assert len(ranged) == sum(1 for r in rows if r["params_b"] is not None and 2 <= r["params_b"] <= 7)
    small = _all(client, "&size=0-3")
    assert {r["params_b"] for r in small} == {0.5, 2.0, 3.0}  # <= 3B includes 3B; unknown sizes excluded
    unflagged = _all(client, "&hide_flagged=1")
    assert len(unflagged) == sum(1 for r in rows if not r["flags"]) < len(rows)


def test_search_words_fields_and_union(board: tuple[TestClient, list[dict[str, Any]]]) -> None:
    client, rows = board
    llama = _all(client, "&q=LLAMA")
    assert llama and all("llama" in r["model"] for r in llama)
    assert len(llama) == sum(1 for r in rows if "llama" in r["model"])
    union = _all(client, "&q=" + "llama-3 ; qwen-1".replace(" ", "%20").replace(";", "%3B"))
    assert {r["model"] for r in union} == {
        r["model"] for r in rows if r["model"].startswith(("llama-3", "qwen-1"))
    }
    fields = _all(client, "&q=%40license%3AMIT%20%40precision%3Abfloat16%20%40type%3Afine-tuned")
    assert fields == [
        r
        for r in rows
        if r["licence"] == "mit" and r["precision"] == "bfloat16" and r["kind"] == "fine_tuned"
    ]
    # A LIKE wildcard in the search is text, not a pattern.
    assert _all(client, "&q=%25") == [] and _all(client, "&q=_") == []


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("type=robot", "type", "unknown type 'robot'; use one of: pretrained"),
        ("size=huge", "size", "unknown size 'huge'"),
        ("min_params=lots", "min_params", "must be a number of billions"),
        ("min_params=9&max_params=3", "min_params", "swap them"),
        ("q=%40author%3Ame", "q", "@license:VALUE, @precision:VALUE or @type:VALUE"),
        ("sort=vibes", "sort", "unknown sort 'vibes'"),
        ("after=not-a-cursor", "after", "not a cursor this board gave out"),
        # A number cursor (from a score sort) on the name sort: text against a number.
        ("sort=name&after=WzAuNSwgM10", "after", "not a cursor of this sort"),
        ("sort=submitted&after=WyJ4IiwgM10", "after", "not a cursor of this sort"),
        ("limit=0", "limit", "limit must be a whole number from 1 to 500"),
        ("suite=nope", "suite", "unknown suite"),
    ],
)
def test_bad_parameters_are_422_with_what_to_change_on_api_page_and_export(
    board: tuple[TestClient, list[dict[str, Any]]], query: str, field: str, says: str
) -> None:
    client, _ = board
    for path in ("/api/v1/leaderboard", "/api/v1/leaderboard.csv", "/api/v1/leaderboard.json"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, response.text)
        assert response.json()["field"] == field and says in response.json()["detail"]
    page = client.get(f"/?{query}&lang=en")
    assert page.status_code in (404, 422) and "Traceback" not in page.text
    if field != "suite":
        assert says.replace("'", "&#39;") in page.text


def test_exports_carry_every_filtered_row_with_the_same_filters(
    board: tuple[TestClient, list[dict[str, Any]]],
) -> None:
    client, _ = board
    query = "suite=smoke&type=chat,pretrained,fine_tuned&sort=mmlu_en_mini&order=asc"
    expected = _all(client, "&" + query.removeprefix("suite=smoke&"))
    exported = client.get(f"/api/v1/leaderboard.json?{query}")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert [r["model_id"] for r in exported.json()] == [r["model_id"] for r in expected]
    assert exported.json() == expected
    response = client.get(f"/api/v1/leaderboard.csv?{query}")
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets then read Hangul as UTF-8
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [int(r["model_id"]) for r in table] == [r["model_id"] for r in expected]
    first, row = table[0], expected[0]
    assert float(first["mmlu_en_mini"]) == row["scores"]["mmlu_en_mini"]["value"]
    assert float(first["mmlu_en_mini_stderr"]) == row["scores"]["mmlu_en_mini"]["stderr"]
    assert first["model"] == row["model"] and first["type"] == row["kind"]


def test_csv_cells_that_spreadsheets_would_run_stay_text(settings: Settings) -> None:
    seed(settings.resolved_database_url, [SeedModel(name="=HYPERLINK(1)", scores={"mmlu_en_mini": 0.5})])
    with TestClient(create_app(settings)) as client:
        text = client.get("/api/v1/leaderboard.csv").content.decode("utf-8")
    assert ",'=HYPERLINK(1)," in text and ",=HYPERLINK" not in text


def test_page_links_keep_the_view_and_export_the_same_rows(
    board: tuple[TestClient, list[dict[str, Any]]],
) -> None:
    client, _ = board
    html = client.get("/?suite=smoke&type=chat&sort=mmlu_en_mini&order=asc&hide=licence&limit=3&lang=en").text
    assert (
        'href="/api/v1/leaderboard.csv?suite=smoke&amp;type=chat&amp;sort=mmlu_en_mini&amp;order=asc"' in html
    )
    assert 'aria-sort="ascending" data-sort="mmlu_en_mini"' in html
    assert ">Licence</th>" not in html  # hidden column
    assert (
        'id="next-page"' in html and "hide=licence" in html.partition('id="next-page"')[0].rpartition("<a")[2]
    )
    assert "<svg" in html.partition('id="scatter"')[2]


def test_rebuild_all_reproduces_what_finishing_requests_wrote(
    board: tuple[TestClient, list[dict[str, Any]]], settings: Settings
) -> None:
    client, rows = board
    with session_scope(settings.resolved_database_url) as session:
        assert rebuild_all(session) == len(rows)
    assert _all(client, "") == rows
    with session_scope(settings.resolved_database_url) as session:
        assert session.query(LeaderboardEntry).count() == len(rows)
    assert json.loads(client.get("/api/v1/leaderboard.json").text) == rows


def _board_schema(url: str) -> list[tuple[str, ...]]:
    """The board tables' index and foreign key definitions, as PostgreSQL's catalog writes them
    (SQLite: its own schema text)."""
    names = {"tables": list(BOARD_TABLES)}
    with session_scope(url) as session:
        if session.get_bind().dialect.name == "sqlite":
            schema = text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN :tables")
            found = list(session.execute(schema.bindparams(bindparam("tables", expanding=True)), names))
        else:
            indexes = text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables)")
            found = [*session.execute(indexes, names), *session.execute(bulk.FOREIGN_KEYS, names)]
        return sorted(tuple(row) for row in found)


def test_a_first_build_fills_an_empty_index_and_brings_back_every_index_and_key(
    board: tuple[TestClient, list[dict[str, Any]]], settings: Settings
) -> None:
    client, rows = board
    url = settings.resolved_database_url
    schema = _board_schema(url)
    assert len(schema) >= (5 if url.startswith("sqlite") else 25)  # tables, indexes and keys
    with session_scope(url) as session:
        session.execute(delete(LeaderboardEntry))
    # A first build that fails half-way leaves the index as it was: empty, every index in place.
    with pytest.raises(RuntimeError), session_scope(url) as session:
        assert rebuild_all(session) == len(rows)
        raise RuntimeError("stopped before the commit")
    assert _board_schema(url) == schema
    with session_scope(url) as session:
        assert session.query(LeaderboardEntry).count() == 0
        assert rebuild_all(session) == len(rows)
    assert _board_schema(url) == schema
    assert _all(client, "") == rows
    assert _all(client, "&sort=mmlu_en_mini&order=asc") == sorted(
        rows, key=lambda r: (r["scores"]["mmlu_en_mini"]["value"], r["model_id"])
    )
    assert json.loads(client.get("/api/v1/leaderboard.json?q=llama").text) == [
        r for r in rows if "llama" in r["model"]
    ]


def test_cached_views_change_the_moment_a_request_finishes(settings: Settings) -> None:
    url = settings.resolved_database_url
    seed(
        url,
        [SeedModel(name="first", scores={"mmlu_en_mini": 0.4, "kmmlu_ko_mini": 0.4, "short_answer": 0.4})],
    )
    app = create_app(settings)
    with TestClient(app) as client:
        views = ("/api/v1/leaderboard?suite=smoke", "/?suite=smoke&lang=en")
        before = [client.get(v).text for v in views]
        assert [client.get(v).text for v in views] == before  # unchanged board: served again
        assert app.state.view_cache.hits == 2
        seed(
            url,
            [
                SeedModel(
                    name="second", scores={"mmlu_en_mini": 0.9, "kmmlu_ko_mini": 0.9, "short_answer": 0.9}
                )
            ],
        )
        api, page = (client.get(v).text for v in views)
        assert [r["model"] for r in json.loads(api)["rows"]] == ["second", "first"]
        assert "second" in page and "second" not in before[1]
        assert (
            client.get("/?suite=smoke&lang=ko").headers["content-language"] == "ko"
        )  # language is in the key
    uncached = create_app(make_settings(settings.home, url, view_cache=False))
    with TestClient(uncached) as client:
        assert uncached.state.view_cache is None
        assert [r["model"] for r in client.get(views[0]).json()["rows"]] == ["second", "first"]


def _chart(html: str) -> str:
    return html.partition('id="scatter"')[2].partition("</section>")[0]


def test_the_kept_chart_follows_language_and_filters_and_equals_a_fresh_drawing(
    board: tuple[TestClient, list[dict[str, Any]]], settings: Settings
) -> None:
    client, rows = board
    english = _chart(client.get("/?suite=smoke&lang=en").text)
    korean = _chart(client.get("/?suite=smoke&lang=ko").text)
    assert "Parameters (billions, log scale)" in english and "파라미터 수" in korean
    chats = _chart(client.get("/?suite=smoke&type=chat&lang=en").text)
    chat_ids = {
        r["model_id"] for r in rows if r["kind"] == "chat" and r["params_b"] and r["average"] is not None
    }
    other_ids = {r["model_id"] for r in rows if r["kind"] != "chat"}
    assert chat_ids and all(f'href="/models/{i}"' in chats for i in chat_ids)
    assert not any(f'href="/models/{i}"' in chats for i in other_ids)
    # A sort or a page shows the same chart as the view's first page; a new app draws it afresh.
    assert _chart(client.get("/?suite=smoke&sort=name&limit=3&lang=en").text) == english
    with TestClient(create_app(settings)) as fresh:
        assert _chart(fresh.get("/?suite=smoke&sort=name&limit=3&lang=en").text) == english
