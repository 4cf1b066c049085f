"""results.json and paged per-sample logs of a finished request, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from tests.support.auth import admin_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def _finished_request(client: TestClient, settings: Settings, folder: Path) -> int:
    body = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
    request_id = int(client.post("/api/v1/models", json=body).json()["request_ids"][0])
    folder.mkdir()
    (folder / "results.json").write_text(
        json.dumps({"results": {"evalboard_smoke_mmlu_en": {"acc,none": 0.5}}})
    )
    with (folder / "samples.jsonl").open("w") as handle:
        for benchmark, count in (("mmlu_en_mini", 24), ("short_answer", 3)):
            for index in range(count):
                handle.write(json.dumps({"benchmark": benchmark, "doc_id": index, "target": "답"}) + "\n")
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(session, request_id, [], str(folder), "")
    return request_id


def test_results_json_is_lm_evals_document(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    request_id = _finished_request(client, settings, tmp_path / "attempt-1")
    assert client.get(f"/api/v1/requests/{request_id}/results.json").json() == {
        "results": {"evalboard_smoke_mmlu_en": {"acc,none": 0.5}}
    }


def test_samples_are_paged_and_filtered_by_benchmark(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    request_id = _finished_request(client, settings, tmp_path / "attempt-1")
    page = client.get(
        f"/api/v1/requests/{request_id}/samples?benchmark=mmlu_en_mini&offset=20&limit=10"
    ).json()
    assert (page["total"], page["offset"]) == (24, 20)
    assert [item["doc_id"] for item in page["items"]] == [20, 21, 22, 23]
    everything = client.get(f"/api/v1/requests/{request_id}/samples?limit=500").json()
    assert everything["total"] == 27 and everything["items"][-1] == {
        "benchmark": "short_answer", "doc_id": 2, "target": "답"
    }  # fmt: skip
    unknown = client.get(f"/api/v1/requests/{request_id}/samples?benchmark=nope")
    assert unknown.status_code == 422 and "has no benchmark 'nope'" in unknown.json()["detail"]


def test_artifacts_of_unfinished_or_unknown_requests(client: TestClient) -> None:
    body = {"model": "bundled:smollm2-135m-instruct", "precision": "float32"}
    request_id = client.post("/api/v1/models", json=body).json()["request_ids"][0]
    pending = client.get(f"/api/v1/requests/{request_id}/results.json")
    assert pending.status_code == 409 and "is PENDING" in pending.json()["detail"]
    assert client.get("/api/v1/requests/999/samples").status_code == 404
