"""POST /api/v1/judge and GET /api/v1/judge/{judge_id} on SQLite and PostgreSQL: a member's file is
checked, queued as a "judge" job (202), graded by a real worker child against the scripted judge
over HTTP, and read back by its submitter; bad files are refused naming the line and field, bounds
are 413s, and the job counts against the weekly quota, leaving nothing queued when refused."""

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
from app.tables import Job
from app.worker.loop import Worker
from tests.conftest import make_settings
from tests.support.auth import admin_headers, member_headers
from tests.support.judge_server import JudgeScript, Step, serve_judge

# output_a better, a draw, output_b better: the scripted judge prefers the "GOOD" answer
PAIRS: list[dict[str, Any]] = [
    {"id": "p1", "instruction": "Name a prime number.", "output_a": "GOOD: 7", "output_b": "8"},
    {"id": "p2", "instruction": "Say hello.", "output_a": "hello", "output_b": "hi"},
    {"id": 3, "instruction": "2+2?", "output_a": "5", "output_b": "GOOD: 4"},
]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode() + b"\n"


def verdict(body: dict[str, Any]) -> Step:
    """[[A]] when the GOOD answer is shown as A, [[B]] when as B, else [[TIE]] (by content: the
    client sends requests concurrently)."""
    content = body["messages"][0]["content"]
    shown_a, shown_b = content.split("[Answer A]")[1].split("[Answer B]")
    if "GOOD" in shown_a:
        return Step(text="A is right.\n[[A]]")
    return Step(text="B is right.\n[[B]]") if "GOOD" in shown_b else Step(text="Same.\n[[TIE]]")


@pytest.fixture
def script() -> Iterator[tuple[JudgeScript, str]]:
    judge = JudgeScript(responder=verdict)
    with serve_judge(judge) as url:
        yield judge, url


@pytest.fixture
def settings(tmp_path: Path, database_url: str, script: tuple[JudgeScript, str]) -> Settings:
    return make_settings(tmp_path, database_url, judge_base_url=script[1], judge_model="judge",
                         judge_file_max_items=5, judge_file_max_bytes=4000)  # fmt: skip


def post(client: TestClient, data: bytes, headers: dict[str, str], **fields: str) -> Any:
    form = {"method": "pairwise", "lang": "en", **fields}
    return client.post("/api/v1/judge", data=form, files={"file": ("pairs.jsonl", data)}, headers=headers)


def queued(settings: Settings) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_member_queues_a_file_and_a_worker_grades_it(
    settings: Settings, script: tuple[JudgeScript, str]
) -> None:
    url = settings.resolved_database_url
    alice, bob = member_headers(url, "alice"), member_headers(url, "bob")
    with TestClient(create_app(settings)) as client:
        response = post(client, jsonl(PAIRS), alice)
        assert response.status_code == 202, response.text
        job = response.json()
        assert (job["status"], job["method"], job["lang"], job["items"]) == ("queued", "pairwise", "en", 3)
        assert job["submitted_by"] == "alice" and job["result"] is None and len(job["sha256"]) == 64
        assert job["status_url"] == f"/api/v1/judge/{job['id']}"
        assert client.get(job["status_url"]).status_code == 401
        other = client.get(job["status_url"], headers=bob)
        assert other.status_code == 403 and "only its submitter or an administrator" in other.json()["detail"]

        assert Worker(settings).run(max_jobs=1, exit_when_idle=True) == 1  # a real child process grades it

        done = client.get(job["status_url"], headers=alice).json()
        assert done["status"] == "done" and done["attempts"] == 1 and done["error"] is None
        result = done["result"]
        assert [(i["id"], i["winner"]) for i in result["items"]] == [("p1", "a"), ("p2", "tie"), ("3", "b")]
        assert (
            result["items"][0]["verdict_a_shown_first"] == "a"
            and result["items"][2]["verdict_b_shown_first"] == "b"
        )
        summary = result["summary"]
        assert (summary["wins_a"], summary["ties"], summary["wins_b"], summary["unjudged"]) == (1, 1, 1, 0)
        assert (
            summary["win_rate_a"]["value"] == pytest.approx(0.5)
            and summary["prompt_version"] == "pairwise-en@1"
        )
        judge = result["judge"]
        assert (
            judge["judge_model"] == "judge"
            and judge["usage"]["calls"] == 6
            and judge["estimate"]["calls"] == 6
        )
        assert len(script[0].received) == 6  # both orders of each pair, nothing more
        assert script[1] not in done_text(done)  # the judge endpoint's address is never shown to members
        assert client.get(job["status_url"], headers=admin_headers(url)).json()["result"] == result
        assert client.get("/api/v1/judge/999999", headers=alice).status_code == 404


def done_text(job: dict) -> str:  # type: ignore[type-arg]
    import json

    return json.dumps(job)


BAD_FILES = [  # (file, form fields, status, field, what the message says)
    (jsonl([{**PAIRS[0], "output_b": None}, {"instruction": "x", "output_a": 1, "output_b": "y"}]), {}, 422,
     "file", "line 1: field 'output_b' is missing; line 2: field 'output_a' must be text, not int"),
    (b'{"instruction": "x"', {}, 422, "file", "line 1: not JSON"),
    (jsonl(PAIRS * 2), {}, 413, "file", "more than 5 items, this server's limit per job"),
    (jsonl([{**PAIRS[0], "output_a": "x" * 5000}]), {}, 413, "file", "limit of 4,000 bytes"),
    (jsonl(PAIRS), {"method": "ranking"}, 422, "method", "unknown method 'ranking'"),
    (jsonl(PAIRS), {"lang": "fr"}, 422, "lang", "unknown lang 'fr'"),
    (jsonl(PAIRS), {"korean_penalty": "maybe"}, 422, "korean_penalty", "use true or false"),
]  # fmt: skip


def test_bad_files_are_refused_naming_what_to_change(settings: Settings) -> None:
    alice = member_headers(settings.resolved_database_url)
    with TestClient(create_app(settings)) as client:
        for data, fields, status, field, message in BAD_FILES:
            response = post(client, data, alice, **fields)
            assert response.status_code == status, (message, response.text)
            assert response.json()["field"] == field and message in response.json()["detail"], response.text
        not_multipart = client.post("/api/v1/judge", json={"items": []}, headers=alice)
        assert not_multipart.status_code == 422 and "multipart/form-data" in not_multipart.json()["detail"]
    assert queued(settings) == 0


def test_a_judge_job_counts_against_the_weekly_quota(settings: Settings) -> None:
    settings.submissions_per_week = 2
    url = settings.resolved_database_url
    alice = member_headers(url, "alice")
    model = {"model": "bundled:smollm2-135m-instruct", "precision": "float32", "suites": ["smoke"]}
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/models", json=model, headers=alice).status_code == 201
        assert post(client, jsonl(PAIRS), alice).status_code == 202
        before = queued(settings)
        refused = post(client, jsonl(PAIRS), alice)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 6 * 86400
        assert "2 of 2 submissions (evaluation requests and judge jobs)" in refused.json()["detail"]
        over = client.post("/api/v1/models", json={**model, "suites": ["gen-ko"]}, headers=alice)
        assert over.status_code == 429  # the judge job took the second place of the week
        assert queued(settings) == before
        assert post(client, jsonl(PAIRS), member_headers(url, "bob")).status_code == 202  # per person
        assert post(client, jsonl(PAIRS), admin_headers(url)).status_code == 202  # admins are exempt
