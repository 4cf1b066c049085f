"""Fine-tune then evaluate, through the real API, queue, worker and child process: the bundled
model, 20 Korean/English Alpaca examples plus one planted benchmark item, a few CPU steps."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.tables import EvalRequest, Job, Result
from app.worker.loop import Worker
from tests.conftest import make_settings
from tests.support.auth import admin_client

pytestmark = pytest.mark.e2e
BASE = "bundled:smollm2-135m-instruct"
DATASET = Path(__file__).resolve().parents[1] / "data" / "finetune" / "alpaca_ko_en.jsonl"
# The smoke suite's first English item, pasted as a training example the way it is shown to models.
PLANTED = {
    "instruction": "What is the SI unit of force?",
    "input": "A. Joule\nB. Watt\nC. Newton\nD. Pascal",
    "output": "C. Newton",
}


def dataset_with_planted_item() -> bytes:
    lines = DATASET.read_text("utf-8").splitlines()
    lines.insert(7, json.dumps(PLANTED))  # line 8 of the upload
    return ("\n".join(lines) + "\n").encode()


def submit(client: TestClient, data: bytes, **fields: str) -> dict:
    form = {"base_model": BASE, "suites": "smoke", "max_steps": "8", "batch_size": "4",
            "learning_rate": "0.002", "lora_r": "8", **fields}  # fmt: skip
    response = client.post("/api/v1/finetunes", data=form, files={"dataset": ("train.jsonl", data)})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return make_settings(tmp_path, sqlite_url, worker_device="cpu", worker_batch_size=8)


def test_finetune_trains_records_and_evaluates_in_the_same_process(
    settings: Settings, converted_model_dir: Path
) -> None:
    client = admin_client(settings)
    created = submit(client, dataset_with_planted_item())
    assert created["status"] == "queued" and created["examples"] == 21
    assert len(created["base_request_ids"]) == 1  # the base is measured on smoke for the delta

    handled = Worker(settings).run(exit_when_idle=True)
    assert handled == 2  # the base's evaluation, then the fine-tune (which evaluates itself)

    finetune = client.get(f"/api/v1/finetunes/{created['id']}").json()
    assert finetune["status"] == "finished", finetune["error"] or finetune["log_tail"]
    summary = finetune["summary"]
    # Loss falls: on the training rows, measured the same way before and after.
    assert summary["loss_after"] < summary["loss_before"] * 0.9, summary
    assert finetune["step"] == 8 and [point[0] for point in finetune["losses"]] == list(range(1, 9))
    assert all(point[1] > 0 for point in finetune["losses"])
    assert finetune["eta_seconds"] == 0.0 and finetune["tokens_per_second"] > 0

    adapter = Path(finetune["adapter_path"])
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 8

    # Evaluated in the training process, from memory: recorded before loss_after was even measured.
    assert summary["evaluated_in_memory"] is True
    assert 0 <= summary["handoff_seconds"] < 30
    assert "evaluation(s) recorded" in finetune["log_tail"]
    [request_id] = finetune["request_ids"]
    with session_scope(settings.resolved_database_url) as session:
        request = session.get(EvalRequest, request_id)
        assert request is not None and request.status == "FINISHED"
        results = list(session.scalars(select(Result).where(Result.request_id == request_id)))
    assert {r.benchmark for r in results if r.is_primary} == {"mmlu_en_mini", "kmmlu_ko_mini", "short_answer"}
    provenance = next(r.provenance for r in results if r.is_primary)
    assert provenance["backend_args"]["peft"] == str(adapter)  # the same record a reload would leave

    # Contamination: the planted line, and only it, overlaps the smoke item it was copied from.
    contamination = finetune["contamination"]
    assert contamination["contaminated_benchmarks"] == ["mmlu_en_mini"]
    assert {(o["line"], o["item"]) for o in contamination["overlaps"]} == {(8, 0)}
    assert contamination["items_checked"] == 72

    # The board: the tuned model with its lineage, its delta against the base, and its flag.
    board = client.get("/api/v1/leaderboard", params={"suite": "smoke", "data": "bundled"}).json()
    rows = {row["model_id"]: row for row in board["rows"]}
    tuned = rows[finetune["tuned_model_id"]]
    base = rows[finetune["base_model_id"]]
    assert tuned["weight_type"] == "adapter" and tuned["kind"] == "adapter"
    lineage = tuned["lineage"]
    assert lineage["base_model_id"] == base["model_id"] and lineage["finetune_id"] == finetune["id"]
    assert lineage["delta_average"] == pytest.approx(tuned["average"] - base["average"])
    assert set(lineage["delta"]) == set(tuned["scores"])
    assert tuned["flags"] and "mmlu_en_mini" in tuned["flags"][0]
    assert base["lineage"] is None and not base["flags"]

    page = client.get("/", params={"suite": "smoke", "data": "bundled"}).text
    assert f'href="/finetunes/{finetune["id"]}"' in page and "Δ" in page
    model_page = client.get(f"/models/{finetune['tuned_model_id']}").text
    assert f'href="/finetunes/{finetune["id"]}"' in model_page


def test_cancel_stops_training_cleanly_and_keeps_the_adapter(
    settings: Settings, converted_model_dir: Path
) -> None:
    client = admin_client(settings)
    created = submit(client, DATASET.read_bytes(), max_steps="2000", suites="smoke")
    for request_id in created["base_request_ids"]:  # only the fine-tune matters here: skip the base
        assert client.post(f"/api/v1/requests/{request_id}/cancel").status_code == 200
    worker = Worker(settings)
    thread = threading.Thread(target=worker.run, kwargs={"exit_when_idle": True}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 240
    finetune = created
    while time.monotonic() < deadline:
        finetune = client.get(f"/api/v1/finetunes/{created['id']}").json()
        if finetune["status"] == "training" and finetune["step"] >= 2:
            break
        time.sleep(0.5)
    assert finetune["status"] == "training" and finetune["step"] >= 2, finetune
    assert finetune["total_steps"] == 2000 and finetune["eta_seconds"] > 0

    cancelled = client.post(f"/api/v1/finetunes/{created['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    thread.join(timeout=120)
    assert not thread.is_alive()

    finetune = client.get(f"/api/v1/finetunes/{created['id']}").json()
    assert finetune["status"] == "cancelled" and finetune["tuned_model_id"] is None
    adapter = Path(finetune["adapter_path"])  # the steps done so far, saved on the way out
    assert (adapter / "adapter_model.safetensors").is_file()
    assert not adapter.with_name("adapter.partial").exists()
    again = client.post(f"/api/v1/finetunes/{created['id']}/cancel")
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]


def test_settings_the_model_cannot_train_with_fail_the_job_at_once_with_the_reason(
    settings: Settings, converted_model_dir: Path
) -> None:
    client = admin_client(settings)
    created = submit(client, DATASET.read_bytes(), target_modules="no_such_proj")
    for request_id in created["base_request_ids"]:
        assert client.post(f"/api/v1/requests/{request_id}/cancel").status_code == 200
    assert Worker(settings).run(exit_when_idle=True) == 1  # the base's job was cancelled

    finetune = client.get(f"/api/v1/finetunes/{created['id']}").json()
    assert finetune["status"] == "failed" and finetune["attempts"] == 1  # permanent: not retried
    assert "target_modules do not fit this model" in finetune["error"]
    assert "no_such_proj" in finetune["error"] and finetune["tuned_model_id"] is None
    with session_scope(settings.resolved_database_url) as session:
        job = session.get(Job, finetune["job_id"])
        assert job is not None and job.status == "failed"
