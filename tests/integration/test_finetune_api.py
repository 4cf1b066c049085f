"""POST/GET /api/v1/finetunes and cancel on SQLite and PostgreSQL: what is stored and queued, and
bad input refused with a message that says what to change, leaving nothing behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_scope
from app.tables import EvalRequest, FineTune, Job, LlmModel
from tests.conftest import make_settings
from tests.support.auth import admin_client

BUNDLED = "bundled:smollm2-135m-instruct"
DATASET = Path(__file__).resolve().parents[1] / "data" / "finetune" / "alpaca_ko_en.jsonl"
UPLOAD_LIMIT = 4096
OK = b'{"instruction": "a", "output": "b"}'  # a valid one-example dataset


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The loopback endpoint is listed so that the openai: base model reaches the fine-tune's own check.
    return make_settings(
        tmp_path,
        database_url,
        finetune_max_upload_bytes=UPLOAD_LIMIT,
        openai_allowed_base_urls=["http://127.0.0.1:9/v1"],
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def post(client: TestClient, data: bytes | None = None, **fields: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    form = {"base_model": BUNDLED, "suites": "smoke", "max_steps": "5", **fields}
    files = {"dataset": ("train.jsonl", data)} if data is not None else None
    response = client.post("/api/v1/finetunes", data=form, files=files)
    return response.status_code, response.json()


def counts(settings: Settings) -> tuple[int, ...]:
    with session_scope(settings.resolved_database_url) as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (FineTune, Job, EvalRequest, LlmModel)
        )


def test_create_stores_the_upload_queues_the_job_and_the_base(client: TestClient, settings: Settings) -> None:
    raw = DATASET.read_bytes()
    status, body = post(client, raw, lora_r="16", lora_alpha="32", target_modules="q_proj, v_proj",
                        suites="smoke", packing="true")  # fmt: skip
    assert status == 201, body
    assert body["status"] == "queued" and body["examples"] == 20 and body["suites"] == ["smoke"]
    assert body["params"]["lora_r"] == 16 and body["params"]["target_modules"] == ["q_proj", "v_proj"]
    assert body["params"]["packing"] is True and body["params"]["max_steps"] == 5
    assert body["dataset_name"] == "train.jsonl" and len(body["dataset_sha256"]) == 64
    with session_scope(settings.resolved_database_url) as session:
        finetune = session.get(FineTune, body["id"])
        assert finetune is not None and finetune.dataset_path is not None
        assert Path(finetune.dataset_path).read_bytes() == raw  # kept as uploaded: line numbers match
        job = session.get(Job, finetune.job_id)
        assert job is not None and job.kind == "finetune" and job.payload == {"finetune_id": body["id"]}
        base = session.get(LlmModel, body["base_model_id"])
        assert base is not None and base.reference == BUNDLED and base.precision == "float32"
    assert len(body["base_request_ids"]) == 1
    # A second fine-tune of the same base does not queue the base again: it is already measured.
    status, second = post(client, raw)
    assert status == 201 and second["base_request_ids"] == body["base_request_ids"]
    assert second["base_model_id"] == body["base_model_id"]
    assert client.get(f"/api/v1/finetunes/{body['id']}").json()["id"] == body["id"]
    assert [f["id"] for f in client.get("/api/v1/finetunes").json()] == [second["id"], body["id"]]


def test_a_json_body_with_a_hub_dataset_id_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/api/v1/finetunes", json={"base_model": BUNDLED, "dataset_id": "org/instructions", "epochs": 2}
    )
    assert response.status_code == 201, response.text
    assert response.json()["dataset_name"] == "hub:org/instructions"
    assert response.json()["examples"] is None  # counted by the worker, which loads it


@pytest.mark.parametrize(
    ("data", "fields", "status", "message"),
    [
        (b'{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": }\n', {}, 422,
         "dataset: line 2: not valid JSON"),
        (b"\n\n", {}, 422, "the dataset has no examples"),
        (b'{"question": "q", "answer": "a"}\n', {}, 422, 'line 1: expected "instruction" and "output"'),
        (b'{"instruction": "a", "output": ""}\n', {}, 422, 'line 1: "output" must be a non-empty string'),
        (b"x" * (UPLOAD_LIMIT + 1), {}, 413, "EVALBOARD_FINETUNE_MAX_UPLOAD_BYTES"),
        (None, {}, 422, "either as an uploaded file (dataset) or as a hub dataset_id"),
        (OK, {"lora_r": "0"}, 422,
         "lora_r: Input should be greater than or equal to 1"),
        (OK, {"learning_rate": "0"}, 422, "learning_rate: Input should be greater than 0"),
        (OK, {"lora_dropout": "1"}, 422, "lora_dropout: Input should be less than 1"),
        (OK, {"max_steps": "1000000"}, 422, "EVALBOARD_FINETUNE_MAX_STEPS"),
        (OK, {"quantization": "3bit"}, 422, "quantization: must be one of none, 4bit"),
        (OK, {"target_modules": "q-proj"}, 422, "is not a module name"),
        (OK, {"base_model": "bundled:nope"}, 422, "unknown bundled model"),
        (OK, {"base_model": "/no/such/model"}, 422, "does not exist"),
        (OK, {"base_model": "org/name"}, 422, "offline"),
        (OK, {"base_model": "openai:m@http://127.0.0.1:9/v1"}, 422,
         "has no weights to tune"),
        (OK, {"suites": "nope"}, 422, "unknown suite 'nope'"),
        (OK, {"surprise": "1"}, 422, "surprise: Extra inputs are not permitted"),
        (OK, {"dataset_id": "org/x"}, 422, "not both"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_clearly_and_writes_nothing(
    client: TestClient,
    settings: Settings,
    data: bytes | None,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    before = counts(settings)
    code, body = post(client, data, **fields)
    assert code == status, body
    assert message in body["detail"], body["detail"]
    assert counts(settings) == before
    assert not (settings.resolved_artifacts_dir / "finetunes").exists()


def test_an_oversize_upload_is_refused_from_its_content_length(
    client: TestClient, settings: Settings
) -> None:
    big = json.dumps({"instruction": "a" * 200_000, "output": "b"}).encode()
    code, body = post(client, big)
    assert code == 413 and "4,096 bytes" in body["detail"]
    assert counts(settings) == (0, 0, 0, 0)


def test_cancel_a_queued_finetune_and_unknown_ids(client: TestClient, settings: Settings) -> None:
    _, body = post(client, DATASET.read_bytes())
    response = client.post(f"/api/v1/finetunes/{body['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    with session_scope(settings.resolved_database_url) as session:
        finetune = session.get(FineTune, body["id"])
        assert finetune is not None
        job = session.get(Job, finetune.job_id)
        assert job is not None and job.status == "cancelled"
    assert client.post(f"/api/v1/finetunes/{body['id']}/cancel").status_code == 409
    assert client.get("/api/v1/finetunes/999").status_code == 404
    assert client.get(f"/api/v1/finetunes/{2**40}").status_code == 404
    assert client.post("/api/v1/finetunes/999/cancel").status_code == 404


@pytest.mark.parametrize(
    ("lines", "args", "message"),
    [
        ('{"instruction": "a", "output": "b"}\n{"instruction": "c"\n', [], "line 2: not valid JSON"),
        ("", [], "the dataset has no examples"),
        ('{"instruction": "a", "output": "b"}\n', ["--lora-r", "0"], "lora_r: Input should be greater"),
        ('{"instruction": "a", "output": "b"}\n', ["--suite", "nope"], "unknown suite 'nope'"),
    ],
)
def test_cli_refuses_bad_input_before_loading_anything(
    tmp_path: Path, lines: str, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import app

    monkeypatch.setenv("EVALBOARD_HOME", str(tmp_path))
    data = tmp_path / "train.jsonl"
    data.write_text(lines, encoding="utf-8")
    result = CliRunner().invoke(app, ["finetune", BUNDLED, "--data", str(data), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert not any(tmp_path.glob("evalboard-finetune-*"))
