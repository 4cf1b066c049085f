"""Submit over HTTP -> worker process -> FINISHED -> ranked row with real scores from the
bundled model. Real processes, real HTTP, real databases; nothing mocked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.tables import Job, Result
from tests.conftest import make_settings
from tests.e2e.fidelity import assert_same_numbers, run_lm_eval_cli
from tests.e2e.procs import EVALBOARD, Proc, request_status, start_server, wait_for
from tests.support.auth import add_user_with_token, member_headers

pytestmark = pytest.mark.e2e
SUBMISSION = {"model": "bundled:smollm2-135m-instruct", "precision": "float32", "suites": ["smoke"]}
SMOKE_METRICS = {"mmlu_en_mini": "acc", "kmmlu_ko_mini": "acc", "short_answer": "exact_match"}


def submit_over_http(base_url: str, database_url: str) -> int:
    """As a member with a real token in the server's database."""
    headers = member_headers(database_url, "e2e-member")
    response = httpx.post(f"{base_url}/api/v1/models", json=SUBMISSION, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return int(response.json()["request_ids"][0])


def submit_with_cli(base_url: str, database_url: str) -> int:
    """`evalboard submit`, the command-line client of the same REST endpoint, with a member's token."""
    token = add_user_with_token(database_url, "cli-member")
    completed = subprocess.run(
        [
            *EVALBOARD,
            "submit",
            SUBMISSION["model"],
            "--suite",
            "smoke",
            "--precision",
            "float32",
            "--url",
            base_url,
            "--token",
            token,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return int(json.loads(completed.stdout)["request_ids"][0])


def wait_finished(base_url: str, request_id: int, timeout: float = 420) -> dict:  # type: ignore[type-arg]
    def finished() -> dict | None:  # type: ignore[type-arg]
        status = request_status(base_url, request_id)
        assert status["status"] not in ("FAILED", "CANCELLED"), status
        return status if status["status"] == "FINISHED" else None

    return dict(wait_for(finished, timeout, f"request {request_id} to finish", interval=1.0))


def check_real_scores(base_url: str, request: dict, database_url: str) -> None:  # type: ignore[type-arg]
    primary = {r["benchmark"]: r for r in request["results"] if r["is_primary"]}
    assert {b: r["metric"] for b, r in primary.items()} == SMOKE_METRICS
    for result in primary.values():
        assert 0.0 <= result["value"] <= 1.0
        assert result["stderr"] is not None and result["stderr"] > 0  # 24 items: a real spread
        assert result["n"] == 24
        provenance = result["provenance"]
        assert provenance["model_commit"].startswith("gguf-sha256:")
        assert provenance["lm_eval_version"] and provenance["task_config_hash"]
        assert provenance["apply_chat_template"] is True and provenance["chat_template_hash"]
        assert provenance["reproduce"].startswith("lm_eval --model hf")
    # Generation really ran: SmolLM2 answers some of the easy questions, not all.
    assert 0.0 < primary["short_answer"]["value"] < 1.0

    assert request["data_source"] == "bundled"  # smoke's items are bundled: never on the real board
    assert httpx.get(f"{base_url}/api/v1/leaderboard?suite=smoke", timeout=10).json()["total"] == 0
    board = httpx.get(f"{base_url}/api/v1/leaderboard?suite=smoke&data=bundled", timeout=10).json()
    assert board["total"] == 1 and board["comparable"] is False
    row = board["rows"][0]
    assert row["rank"] == 1 and row["request_id"] == request["id"]
    assert row["average"] == pytest.approx(sum(r["value"] for r in primary.values()) / 3)
    assert {b: s["value"] for b, s in row["scores"].items()} == {b: r["value"] for b, r in primary.items()}
    page = httpx.get(f"{base_url}/?lang=en", timeout=10).text
    assert "SmolLM2-135M-Instruct" in page and f"{row['average'] * 100:.2f}" in page
    # The demo's only results: the sample-data board, under its not-comparable banner.
    assert "so the sample-data board is shown" in page.partition('id="sample-data"')[2]

    artifacts = Path(request["results"][0]["provenance"]["backend_args"]["pretrained"])
    assert artifacts.is_dir()  # the converted model folder the worker loaded
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Result)) == len(request["results"])
        assert session.scalar(select(Job.status)) == "done"


def check_artifacts(settings_home: Path, request_id: int) -> None:
    attempt = next((settings_home / "artifacts" / "requests" / str(request_id)).glob("attempt-*"))
    results = json.loads((attempt / "results.json").read_text())
    assert set(results["results"]) == {
        "evalboard_smoke_mmlu_en",
        "evalboard_smoke_kmmlu_ko",
        "evalboard_smoke_short_answer",
    }
    samples = (attempt / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 72
    assert {"doc", "resps", "target"} <= set(json.loads(samples[-1]))


def check_artifact_endpoints(base_url: str, request_id: int) -> None:
    results = httpx.get(f"{base_url}/api/v1/requests/{request_id}/results.json", timeout=10).json()
    assert set(results["results"]) == {
        "evalboard_smoke_mmlu_en", "evalboard_smoke_kmmlu_ko", "evalboard_smoke_short_answer"
    }  # fmt: skip
    page = httpx.get(
        f"{base_url}/api/v1/requests/{request_id}/samples",
        params={"benchmark": "short_answer", "limit": 5},
        timeout=10,
    ).json()
    assert page["total"] == 24 and len(page["items"]) == 5
    assert {"doc", "resps", "target", "exact_match"} <= set(page["items"][0])


def check_reproduce_command_gives_the_same_numbers(request: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Fidelity: the stored `lm_eval` command, run by the real CLI, yields the stored scores."""
    cli = run_lm_eval_cli(request["results"][0]["provenance"]["reproduce"], tmp_path / "lm_eval_cli")
    compared = assert_same_numbers(request["results"], cli, stderr_required=True)
    assert compared == len(request["results"])


def test_postgres_api_and_separate_worker(tmp_path: Path, postgres_url: str, procs: list[Proc]) -> None:
    settings = make_settings(tmp_path, postgres_url, worker_heartbeat_seconds=1.0)
    base_url, _ = start_server(settings, tmp_path, procs, "--no-local-worker")
    procs.append(Proc(["worker"], settings, tmp_path / "worker.log"))
    request = wait_finished(base_url, submit_over_http(base_url, postgres_url))
    assert request["attempts"] == 1 and request["worker"] and request["progress"] == 1.0
    check_real_scores(base_url, request, postgres_url)
    check_artifacts(tmp_path, request["id"])
    check_artifact_endpoints(base_url, request["id"])
    check_reproduce_command_gives_the_same_numbers(request, tmp_path)


def test_sqlite_serve_with_local_worker(tmp_path: Path, procs: list[Proc]) -> None:
    url = f"sqlite:///{tmp_path / 'evalboard.db'}"  # `serve` migrates it itself
    settings = make_settings(tmp_path, url, worker_heartbeat_seconds=1.0)
    base_url, _ = start_server(settings, tmp_path, procs)
    request = wait_finished(base_url, submit_with_cli(base_url, url))
    check_real_scores(base_url, request, url)
    check_artifacts(tmp_path, request["id"])
