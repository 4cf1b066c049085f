"""References that would make the server reach where it should not, over the API on both databases:
endpoints on internal addresses, private held-out items sent to an untrusted endpoint, and local
folders outside the roots members may submit from. Each is a 422 that says what to change, and
nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.tables import EvalRequest, Job, LlmModel
from app.worker.loop import Worker
from benchmarks.private import register
from tests.support.auth import admin_headers, member_headers
from tests.support.loopback_http import loopback_server
from tests.unit.test_private import MULTIPLE_CHOICE, write_jsonl
from tests.unit.test_references import write_safetensors

LOOPBACK = "http://127.0.0.1:9/v1"  # nothing listens there, and nothing is sent: only validated


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A member's client; admin(client) gives an administrator's headers for the same app."""
    headers = member_headers(settings.resolved_database_url)
    with TestClient(create_app(settings), headers=headers) as test_client:
        yield test_client


def admin(settings: Settings) -> dict[str, str]:
    return admin_headers(settings.resolved_database_url)


def submit(
    client: TestClient, headers: dict[str, str] | None = None, **fields: object
) -> tuple[int, dict[str, Any]]:
    """As the member of `client`, or with an administrator's headers."""
    body = {"precision": "float32", **fields}
    response = client.post("/api/v1/models", json=body, headers=headers)
    return response.status_code, response.json()


def rows(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings.resolved_database_url) as session:
        counts = [
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (LlmModel, EvalRequest, Job)
        ]
    return counts[0], counts[1], counts[2]


ENDPOINTS = [
    "http://169.254.169.254/v1",
    "http://127.0.0.1:8000/v1",
    "http://2130706433/v1",
    "http://0x7f000001/v1",
    "http://017700000001/v1",
    "http://127.1/v1",
    "http://localhost./v1",
    "http://[::1]/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://10.0.0.1/v1",
    "http://[fd00::1]/v1",
    "http://no-such-host.invalid/v1",
]


def test_endpoints_on_internal_addresses_are_refused_and_nothing_is_written(
    client: TestClient, settings: Settings
) -> None:
    for base_url in ENDPOINTS:
        for headers in (None, admin(settings)):  # administrators must list internal endpoints too
            code, body = submit(client, headers, model=f"openai:m@{base_url}", tokenizer="org/t")
            assert code == 422, (base_url, body)
            assert body["field"] == "model"
            assert "EVALBOARD_OPENAI_ALLOWED_BASE_URLS" in body["detail"], body["detail"]
    assert rows(settings) == (0, 0, 0)


def test_a_listed_internal_endpoint_is_accepted(client: TestClient, settings: Settings) -> None:
    settings.openai_allowed_base_urls = [LOOPBACK]
    code, body = submit(client, model=f"openai:m@{LOOPBACK}/", tokenizer="org/t")
    assert code == 201, body
    code, body = submit(client, model="openai:m@http://127.0.0.1:10/v1", tokenizer="org/t")
    assert code == 422 and "EVALBOARD_OPENAI_ALLOWED_BASE_URLS" in body["detail"]
    assert rows(settings) == (1, 1, 1)


def test_private_items_go_only_to_a_trusted_endpoint(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "held.jsonl", MULTIPLE_CHOICE)
    register(settings.resolved_private_dir, "held_mc", data, "multiple_choice", "Held-out MC", "비공개")
    settings.openai_allowed_base_urls = [LOOPBACK]

    def submit_private() -> tuple[int, dict[str, Any]]:
        return submit(client, model=f"openai:m@{LOOPBACK}", tokenizer="org/t", suites=["private"])

    code, body = submit_private()
    assert code == 422 and body["field"] == "suites"
    assert "EVALBOARD_OPENAI_TRUSTED_BASE_URLS" in body["detail"]
    assert rows(settings) == (0, 0, 0)
    settings.openai_trusted_base_urls = [LOOPBACK]
    code, body = submit_private()
    assert code == 201, body
    # A model name holding "@" (as "@cf/meta/llama-3" does) still finds the endpoint's URL.
    code, body = submit(client, model=f"openai:@cf/m@{LOOPBACK}", tokenizer="org/t", suites=["private"])
    assert code == 201, body


def run_one_job(settings: Settings) -> str:
    worker = Worker(settings)
    job = worker.claim()
    assert job is not None
    return worker.run_job(job).kind


def test_the_worker_checks_the_endpoint_again_when_it_connects(
    client: TestClient, settings: Settings
) -> None:
    """The worker's own settings decide: an endpoint no longer listed there is not contacted (the
    job fails for good), a listed one is (its tokenizer then fails to load: the tests are offline)."""

    def queued_request() -> int:
        code, body = submit(client, model=f"openai:m@{server.base_url}", tokenizer="org/t")
        assert code == 201, body
        return int(body["request_ids"][0])

    def error(request_id: int) -> str:
        return str(client.get(f"/api/v1/requests/{request_id}").json()["error"])

    with loopback_server() as server:
        settings.openai_allowed_base_urls = [server.base_url]
        refused = queued_request()
        assert run_one_job(settings.model_copy(update={"openai_allowed_base_urls": []})) == "failed"
        assert server.paths == []
        assert "is refused" in error(refused)
        reached = queued_request()
        assert run_one_job(settings) == "failed"
        assert server.paths == ["/v1/models"]
        assert "could not load tokenizer" in error(reached)
    with session_scope(settings.resolved_database_url) as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        assert [(job.status, job.attempts) for job in jobs] == [("failed", 1), ("failed", 1)]


def model_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    write_safetensors(folder / "model.safetensors", {"w": [2]})
    return folder


@pytest.fixture
def roots(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    settings.local_model_roots = [root]
    return root


def test_members_submit_local_folders_under_the_roots_only(
    client: TestClient, settings: Settings, tmp_path: Path, roots: Path
) -> None:
    outside = model_folder(tmp_path / "outside-model")  # a real model, not under a root
    (roots / "empty").mkdir()
    (roots / "link").symlink_to(outside)
    (roots / "a-file").write_text("x")
    refused = [
        "/root/.ssh",
        "/etc",
        "/no/such/folder",
        str(tmp_path),  # a folder without config.json
        str(roots / "empty"),  # under a root, without config.json
        str(roots / "missing"),
        str(roots / "a-file"),
        f"{roots}/../outside-model",  # `..` out of the root
        str(roots / "link"),  # a symlink out of the root
        "~",
    ]
    answers = set()
    for reference in refused:
        code, body = submit(client, model=reference)
        assert code == 422, (reference, body)
        answers.add(body["detail"])
        assert str(tmp_path) not in body["detail"] and "/etc" not in body["detail"]
    assert len(answers) == 1  # one answer whatever exists: no oracle for the server's files
    (answer,) = answers
    assert "EVALBOARD_LOCAL_MODEL_ROOTS" in answer and "administrator" in answer
    assert rows(settings) == (0, 0, 0)

    inside = model_folder(roots / "team" / "tiny")
    code, body = submit(client, model=f"{roots}/team/../team/tiny")
    assert code == 201, body
    assert client.get(f"/api/v1/models/{body['model_id']}").json()["reference"] == str(inside)


def test_base_model_and_tokenizer_folders_follow_the_same_rule(
    client: TestClient, settings: Settings, roots: Path
) -> None:
    code, model_answer = submit(client, model="/etc")
    code, body = submit(
        client, model="bundled:smollm2-135m-instruct", weight_type="adapter", base_model="/etc"
    )
    assert code == 422 and body["detail"] == f"base_model: {model_answer['detail']}"
    settings.openai_allowed_base_urls = [LOOPBACK]
    for tokenizer in ("/etc", "./", "../", "~/.ssh"):
        code, body = submit(client, model=f"openai:m@{LOOPBACK}", tokenizer=tokenizer)
        assert code == 422 and body["detail"] == model_answer["detail"], (tokenizer, body)
    assert rows(settings) == (0, 0, 0)


def test_without_roots_members_submit_no_folders_and_admins_get_details(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    code, body = submit(client, model=str(model_folder(tmp_path / "tiny")))
    assert code == 422 and "EVALBOARD_LOCAL_MODEL_ROOTS is empty" in body["detail"]
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    details = {
        "/no/such/folder": "model folder /no/such/folder does not exist on the server",
        str(tmp_path / "a-file"): "is a file",
        str(tmp_path / "empty"): "has no config.json",
    }
    for reference, detail in details.items():
        code, body = submit(client, admin(settings), model=reference)
        assert code == 422 and detail in body["detail"], body
    code, body = submit(client, admin(settings), model=str(tmp_path / "tiny"))
    assert code == 201, body
