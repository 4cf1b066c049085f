"""Private held-out benchmarks over the API, on both databases: submittable and ranked, while their
items and per-sample logs are never served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, LlmModel
from benchmarks.private import register
from tests.support.auth import admin_client
from tests.unit.test_private import MULTIPLE_CHOICE, write_jsonl

TASK = "evalboard_private_held_mc"
SECRET = "What is the capital of France?"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


@pytest.fixture
def registered(settings: Settings, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "held.jsonl", MULTIPLE_CHOICE)
    register(
        settings.resolved_private_dir, "held_mc", data, "multiple_choice", "Held-out MC", "비공개 객관식"
    )


def _artifacts(folder: Path) -> str:
    """What a run leaves, as if the harness had let private items through (the API must not)."""
    folder.mkdir()
    (folder / "results.json").write_text(
        json.dumps(
            {
                "results": {TASK: {"acc,none": 0.5}, "evalboard_smoke_mmlu_en": {"acc,none": 0.25}},
                "configs": {TASK: {"dataset_kwargs": {"data_file": "/srv/held.jsonl"}}, "other": {}},
                "samples": {TASK: [{"doc": {"question": SECRET}}]},
            }
        )
    )
    with (folder / "samples.jsonl").open("w") as handle:
        handle.write(json.dumps({"benchmark": "held_mc", "task": TASK, "doc": {"question": SECRET}}) + "\n")
        handle.write(json.dumps({"benchmark": "public_one", "task": "public_task", "doc_id": 0}) + "\n")
    return str(folder)


def _result(value: float) -> dict[str, object]:
    return {
        "benchmark": "held_mc",
        "task": TASK,
        "metric": "acc",
        "value": value,
        "stderr": 0.1,
        "n": 3,
        "is_primary": True,
        "provenance": {"data_source": "private"},
    }


@pytest.mark.usefixtures("registered")
def test_private_suite_is_submitted_and_ranked_but_its_items_never_served(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    suites = {s["name"]: s for s in client.get("/api/v1/suites").json()}
    assert [b["private"] for b in suites["private"]["benchmarks"]] == [True]
    response = client.post(
        "/api/v1/models",
        json={"model": "bundled:smollm2-135m-instruct", "precision": "float32", "suites": ["private"]},
    )
    assert response.status_code == 201, response.text
    request_id = response.json()["request_ids"][0]
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(
            session,
            request_id,
            [_result(0.5)],
            _artifacts(tmp_path / "attempt-1"),
            "",
            data_source="private",
            private_dir=settings.resolved_private_dir,  # as the worker passes it
        )

    board = client.get("/api/v1/leaderboard?suite=private").json()  # held-out items are real data
    assert board["comparable"] is True
    assert [(r["request_id"], r["scores"]["held_mc"]["value"]) for r in board["rows"]] == [(request_id, 0.5)]
    html = client.get("/?suite=private").text
    assert "비공개 평가" in html and "SmolLM2-135M-Instruct" in html and 'id="sample-data"' not in html

    refused = client.get(f"/api/v1/requests/{request_id}/samples?benchmark=held_mc")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "'held_mc' is a private held-out benchmark: its items and per-sample logs are never served; "
        f"its scores are at /api/v1/requests/{request_id}"
    )
    everything = client.get(f"/api/v1/requests/{request_id}/samples").json()
    assert everything["total"] == 1 and [i["benchmark"] for i in everything["items"]] == ["public_one"]
    document = client.get(f"/api/v1/requests/{request_id}/results.json")
    assert SECRET not in document.text and "/srv/held.jsonl" not in document.text
    assert document.json()["configs"] == {"other": {}} and document.json()["samples"] == {}
    assert document.json()["results"][TASK] == {"acc,none": 0.5}  # the scores stay public


def test_private_run_stays_private_after_its_registration_is_gone(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    # Seeded directly: no benchmark is registered on this server (any more).
    with session_scope(settings.resolved_database_url) as session:
        model = LlmModel(
            reference="bundled:smollm2-135m-instruct",
            source="bundled",
            name="SmolLM2-135M-Instruct",
            precision="float32",
            model_type="chat",
        )
        session.add(model)
        session.flush()
        request = EvalRequest(model_id=model.id, suite="private")
        session.add(request)
        session.flush()
        request_id = request.id
        runs.mark_finished(
            session,
            request_id,
            [_result(0.75)],
            _artifacts(tmp_path / "attempt-1"),
            "",
            data_source="private",
        )
    assert client.get(f"/api/v1/requests/{request_id}/samples?benchmark=held_mc").status_code == 403
    assert client.get(f"/api/v1/requests/{request_id}/samples").json()["total"] == 1
    assert SECRET not in client.get(f"/api/v1/requests/{request_id}/results.json").text
    unknown = client.post(
        "/api/v1/models",
        json={"model": "bundled:smollm2-135m-instruct", "precision": "float32", "suites": ["private"]},
    )
    assert unknown.status_code == 422 and "unknown suite 'private'" in unknown.json()["detail"]
