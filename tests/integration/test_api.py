"""REST API and pages on both databases: submissions, validation, requests, leaderboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, Job, LlmModel, RequestStatus
from benchmarks.catalog import SUITES
from tests.conftest import make_settings
from tests.support.auth import admin_client
from tests.unit.test_references import write_safetensors

BUNDLED = "bundled:smollm2-135m-instruct"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """An endpoint on loopback is refused unless listed: the cases below name this one."""
    return make_settings(tmp_path, database_url, openai_allowed_base_urls=["http://127.0.0.1:9/v1"])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def submit(client: TestClient, **fields: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    body = {"model": BUNDLED, "precision": "float32", **fields}
    response = client.post("/api/v1/models", json=body)
    return response.status_code, response.json()


def count(url: str, table: type) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_submit_creates_model_request_and_job_in_one_go(client: TestClient, settings: Settings) -> None:
    status, body = submit(client, suites=["smoke"])
    assert status == 201, body
    assert len(body["request_ids"]) == 1 and len(body["job_ids"]) == 1
    model = client.get(f"/api/v1/models/{body['model_id']}").json()
    assert model["reference"] == BUNDLED
    assert model["model_type"] == "chat" and model["use_chat_template"] is True
    request = client.get(f"/api/v1/requests/{body['request_ids'][0]}").json()
    assert request["status"] == "PENDING" and request["suite"] == "smoke"
    assert [r["id"] for r in client.get("/api/v1/requests?status=pending").json()] == body["request_ids"]
    assert client.get("/api/v1/requests?status=FINISHED").json() == []


def test_duplicate_while_pending_is_409_and_writes_nothing(client: TestClient, settings: Settings) -> None:
    assert submit(client)[0] == 201
    before = (count(settings.resolved_database_url, EvalRequest), count(settings.resolved_database_url, Job))
    status, body = submit(client)
    assert status == 409
    assert "already queued or running on smoke" in body["detail"]
    assert (
        count(settings.resolved_database_url, EvalRequest),
        count(settings.resolved_database_url, Job),
    ) == before
    # Another precision is another model: accepted.
    assert submit(client, precision="bfloat16")[0] == 201


def test_resubmitting_after_the_run_ended_creates_a_new_request(
    client: TestClient, settings: Settings
) -> None:
    _, first = submit(client)
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(session, first["request_ids"][0], [], "/tmp", "")
    status, second = submit(client)
    assert status == 201
    assert second["model_id"] == first["model_id"]
    assert second["request_ids"] != first["request_ids"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"model": "/no/such/folder"}, 422, "does not exist"),
        ({"model": "not a hub id"}, 422, "org/name or org/name@revision"),
        ({"model": "org/name"}, 422, "offline"),
        # every built-in suite is listed, so the user sees what to choose instead
        ({"suites": ["nope"]}, 422, f"unknown suite 'nope'; known suites: {', '.join(sorted(SUITES))}"),
        ({"suites": []}, 422, "suites:"),
        ({"precision": "int3"}, 422, "precision: Input should be"),
        ({"weight_type": "adapter"}, 422, "needs base_model"),
        ({"base_model": BUNDLED}, 422, "base_model is only for delta or adapter"),
        (
            {"weight_type": "delta", "base_model": "/no/base"},
            422,
            "base_model: model folder /no/base does not exist",
        ),
        ({"model_type": "robot"}, 422, "model_type:"),
        ({"surprise": 1}, 422, "surprise: Extra inputs are not permitted"),
        ({"model": "bundled:nope"}, 422, "unknown bundled model"),
        (
            {"model": "openai:m@http://127.0.0.1:9/v1"},
            422,
            "suite 'smoke' scores answers by log-likelihood, which needs the served model's tokenizer",
        ),
        (
            {"model": "openai:m@ftp://h/v1", "tokenizer": "bundled:smollm2-135m-instruct"},
            422,
            "names no endpoint",
        ),
        ({"tokenizer": "org/tok"}, 422, "tokenizer is only for openai:MODEL@URL endpoints"),
        ({"model": "openai:m@http://127.0.0.1:9/v1", "tokenizer": "/nowhere/tok"}, 422, "/nowhere/tok"),
    ],
)
def test_bad_submissions_get_clear_4xx(
    client: TestClient, settings: Settings, fields: dict, status: int, message: str
) -> None:  # type: ignore[type-arg]
    code, body = submit(client, **fields)
    assert code == status, body
    assert message in body["detail"]
    assert count(settings.resolved_database_url, LlmModel) == 0


def test_an_endpoint_is_submitted_with_its_tokenizer_and_allowed_urls_only(
    client: TestClient, settings: Settings
) -> None:
    settings.openai_allowed_base_urls = ["http://127.0.0.1:8001/v1"]
    body = {"model": "openai:served-model@http://127.0.0.1:8001/v1/", "tokenizer": "org/tokenizer"}
    code, created = submit(client, **body)
    assert code == 201, created
    model = client.get(f"/api/v1/models/{created['model_id']}").json()
    assert model["reference"] == "openai:served-model@http://127.0.0.1:8001/v1"  # trailing / dropped
    assert model["source"] == "openai" and model["tokenizer"] == "org/tokenizer"

    code, refused = submit(client, model="openai:other@http://127.0.0.1:8002/v1", tokenizer="org/t")
    assert code == 422 and "is refused" in refused["detail"]
    assert "EVALBOARD_OPENAI_ALLOWED_BASE_URLS" in refused["detail"]
    assert "127.0.0.1:8001" not in refused["detail"]  # the allowed list is not disclosed


def test_local_folder_with_adapter_needs_adapter_weight_type(client: TestClient, tmp_path: Path) -> None:
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": 8}))
    write_safetensors(folder / "adapter_model.safetensors", {"lora_A": [8, 16]})
    code, body = submit(client, model=str(folder))
    assert code == 422 and "set weight_type to adapter" in body["detail"]
    code, body = submit(client, model=str(folder), weight_type="adapter", base_model=BUNDLED)
    assert code == 201, body
    model = client.get(f"/api/v1/models/{body['model_id']}").json()
    assert model["base_model"] == BUNDLED and model["weight_type"] == "adapter"


def test_not_found_is_404_with_message(client: TestClient) -> None:
    assert client.get("/api/v1/models/999").json() == {"detail": "no model with id 999", "field": None}
    assert client.get("/api/v1/requests/999").status_code == 404
    assert client.get("/api/v1/requests?status=bogus").status_code == 422


def test_cancel_pending_request(client: TestClient, settings: Settings) -> None:
    _, body = submit(client)
    request_id = body["request_ids"][0]
    cancelled = client.post(f"/api/v1/requests/{request_id}/cancel").json()
    assert cancelled["status"] == "CANCELLED"
    assert client.post(f"/api/v1/requests/{request_id}/cancel").status_code == 409
    assert submit(client)[0] == 201  # no longer a duplicate


def _finish(url: str, request_id: int, scores: dict[str, float], data_source: str | None = "hub") -> None:
    metric = {"mmlu_en_mini": "acc", "kmmlu_ko_mini": "acc", "short_answer": "exact_match"}
    rows = [
        {
            "benchmark": b,
            "task": f"t_{b}",
            "metric": metric[b],
            "value": v,
            "stderr": 0.01,
            "n": 24,
            "is_primary": True,
            "provenance": {"x": 1},
        }
        for b, v in scores.items()
    ]
    with session_scope(url) as session:
        runs.mark_finished(session, request_id, rows, "/tmp", "", data_source=data_source)


def test_leaderboard_ranks_by_average_and_puts_incomplete_runs_last(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    _, a = submit(client, precision="float32")
    _, b = submit(client, precision="bfloat16")
    _, c = submit(client, precision="float16")
    _finish(url, a["request_ids"][0], {"mmlu_en_mini": 0.5, "kmmlu_ko_mini": 0.3, "short_answer": 0.1})
    _finish(url, b["request_ids"][0], {"mmlu_en_mini": 0.6, "kmmlu_ko_mini": 0.4, "short_answer": 0.2})
    _finish(url, c["request_ids"][0], {"mmlu_en_mini": 0.9})
    page = client.get("/api/v1/leaderboard?suite=smoke").json()
    assert page["total"] == 3
    assert [r["model_id"] for r in page["rows"]] == [b["model_id"], a["model_id"], c["model_id"]]
    assert page["rows"][0]["average"] == pytest.approx(0.4)
    assert page["rows"][0]["scores"]["mmlu_en_mini"] == {
        "value": 0.6,
        "stderr": 0.01,
        "n": 24,
        "metric": "acc",
        "raw": None,  # only normalized benchmarks have a raw score beside theirs
        "raw_stderr": None,
        "data": "hub",  # the data this benchmark ran on (a request labelled hub with no per-benchmark record)
        "judge": None,  # judged benchmarks only: who judged it
        "judge_apart": False,
        "p_above_next": None,  # no item scores were stored: nothing to bootstrap against the next rank
        "tied_with_next": None,
    }
    assert page["rows"][2]["average"] is None
    assert [r["rank"] for r in page["rows"]] == [1, 2, 3]
    first = client.get("/api/v1/leaderboard?suite=smoke&limit=1").json()
    second = client.get(f"/api/v1/leaderboard?suite=smoke&limit=1&after={first['next_after']}").json()
    assert [r["model_id"] for r in second["rows"]] == [a["model_id"]] and second["total"] == 3
    assert client.get("/api/v1/leaderboard?suite=nope").status_code == 422
    html = client.get("/?suite=smoke").text
    assert html.index("<td>float16</td>") > html.index("40.00")  # best row first, incomplete last


def test_leaderboard_uses_each_models_latest_finished_run(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    _, first = submit(client)
    _finish(url, first["request_ids"][0], {"mmlu_en_mini": 0.2, "kmmlu_ko_mini": 0.2, "short_answer": 0.2})
    _, second = submit(client)
    _finish(url, second["request_ids"][0], {"mmlu_en_mini": 0.8, "kmmlu_ko_mini": 0.8, "short_answer": 0.8})
    rows = client.get("/api/v1/leaderboard").json()["rows"]
    assert len(rows) == 1 and rows[0]["request_id"] == second["request_ids"][0]


def test_suites_health_and_docs(client: TestClient) -> None:
    suites = client.get("/api/v1/suites").json()
    assert suites[0]["name"] == "smoke"
    assert [b["name"] for b in suites[0]["benchmarks"]] == ["mmlu_en_mini", "kmmlu_ko_mini", "short_answer"]
    v2 = next(s for s in suites if s["name"] == "open-llm-v2")
    bbh = next(b for b in v2["benchmarks"] if b["name"] == "bbh")
    assert bbh["aggregation"] == "normalized_mean" and bbh["hub_datasets"] == ["SaylorTwift/bbh"]
    assert bbh["licence"] == "MIT" and bbh["size"] and bbh["source"].startswith("Suzgun")
    assert client.get("/healthz").json()["status"] == "ok"
    assert "/api/v1/models" in client.get("/openapi.json").json()["paths"]


def test_submit_form_queues_and_shows_errors_inline(client: TestClient, settings: Settings) -> None:
    page = client.get("/submit")
    assert page.status_code == 200 and 'name="model"' in page.text
    ok = client.post(
        "/submit",
        data={"model": BUNDLED, "precision": "float32", "suites": "smoke", "use_chat_template": "false"},
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "제출되었습니다" in ok.text  # Korean by default
    assert "bundled:smollm2-135m-instruct" in ok.text  # listed in the queue
    model = client.get("/api/v1/models").json()[0]
    assert model["use_chat_template"] is False  # the form's explicit choice beats the chat default
    bad = client.post("/submit", data={"model": "not a hub id", "precision": "float32", "suites": "smoke"})
    assert bad.status_code == 422
    assert "org/name or org/name@revision" in bad.text
    assert 'value="not a hub id"' in bad.text  # the form keeps what was typed
    dup = client.post("/submit", data={"model": BUNDLED, "precision": "float32", "suites": "smoke"})
    assert dup.status_code == 409 and "already queued" in dup.text
    assert count(settings.resolved_database_url, EvalRequest) == 1


def test_pages_speak_korean_by_default_english_on_request_and_remember_the_choice(
    client: TestClient,
) -> None:
    korean = client.get("/")
    assert korean.headers["content-language"] == "ko" and '<html lang="ko">' in korean.text
    assert "리더보드" in korean.text and "Leaderboard<" not in korean.text
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,ko;q=0.5"})
    assert english.headers["content-language"] == "en" and ">Average" in english.text
    assert client.get("/", headers={"Accept-Language": "fr, ko;q=0.3"}).headers["content-language"] == "ko"
    toggled = client.get("/submit?lang=en")  # the toggle's link: remembered in a cookie
    assert toggled.headers["content-language"] == "en" and "Submit a model" in toggled.text
    assert 'href="http://testserver/submit?lang=ko"' in toggled.text  # the way back
    assert client.get("/", headers={"Accept-Language": "ko"}).headers["content-language"] == "en"
    assert "Vary" in toggled.headers and "Accept-Language" in toggled.headers["Vary"]


def test_user_text_is_escaped_on_pages(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    folder = (
        tmp_path / "<img src=x onerror=alert(1)>"
    )  # a folder name cannot hold '/'; this payload needs none
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    write_safetensors(folder / "model.safetensors", {"w": [2]})
    assert submit(client, model=str(folder))[0] == 201
    html = client.get("/submit").text
    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_request_shows_status_names(client: TestClient) -> None:
    assert {s.value for s in RequestStatus} == {"PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED"}
