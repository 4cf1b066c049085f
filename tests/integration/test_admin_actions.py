"""Administrators' actions on both databases: flagging and hiding models (the board, its exports, the
model page and the audit log follow), who may do them, and the owner's requeue and the admin's
priority on evaluation requests."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_scope
from app.leaderboard import entries
from app.main import create_app
from app.queue import jobs
from app.runs import service as runs
from app.tables import EvalRequest, Job, JobStatus, Result
from tests.support.auth import admin_headers, member_headers
from tests.support.board_seed import SMOKE_METRICS, SeedModel, seed

BUNDLED = "bundled:smollm2-135m-instruct"
REASON = "scores too good to be true: the test items leaked"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def finish(url: str, request_id: int, value: float, data_source: str = "hub") -> None:
    """Results stored the way a worker stores them."""
    rows = [
        {"benchmark": name, "task": f"t_{name}", "metric": metric, "value": value, "stderr": 0.01,
         "n": 24, "is_primary": True, "provenance": {}}
        for name, metric in SMOKE_METRICS.items()
    ]  # fmt: skip
    with session_scope(url) as session:
        runs.mark_finished(session, request_id, rows, "/tmp", "", data_source=data_source)


def seed_board(url: str) -> tuple[int, int, int]:
    """Three models on the real-data smoke board (best first); the best is also on the sample board."""
    scores = {"best": 0.9, "middle": 0.6, "worst": 0.3}
    best, middle, worst = seed(
        url, [SeedModel(name, dict.fromkeys(SMOKE_METRICS, v)) for name, v in scores.items()]
    )
    with session_scope(url) as session:
        request = EvalRequest(model_id=best, suite="smoke", status="RUNNING")
        session.add(request)
        session.flush()
        request_id = request.id
    finish(url, request_id, 0.5, data_source="bundled")
    return best, middle, worst


def board(client: TestClient, query: str = "") -> list[tuple[int, int]]:
    """(model id, rank) of the smoke board's rows, in order."""
    page = client.get(f"/api/v1/leaderboard?suite=smoke{query}").json()
    return [(row["model_id"], row["rank"]) for row in page["rows"]]


def row_of(client: TestClient, model_id: int, query: str = "") -> dict[str, Any]:
    rows = client.get(f"/api/v1/leaderboard?suite=smoke{query}").json()["rows"]
    return next(row for row in rows if row["model_id"] == model_id)


def audit_rows(client: TestClient, admin: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    """Oldest first, only actions starting with prefix."""
    found = client.get("/api/v1/audit?limit=500", headers=admin).json()
    return [entry for entry in reversed(found) if entry["action"].startswith(prefix)]


def test_a_flag_with_its_reason_shows_on_the_board_and_the_model_page(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    best, middle, worst = seed_board(url)
    assert board(client) == [(best, 1), (middle, 2), (worst, 3)]  # drawn and cached before the flag

    flagged = client.post(f"/api/v1/models/{best}/flag", json={"reason": f"  {REASON}  "}, headers=admin)
    assert flagged.status_code == 200, flagged.text
    assert (flagged.json()["flag_reason"], flagged.json()["hidden"]) == (REASON, False)
    assert board(client) == [(best, 1), (middle, 2), (worst, 3)]  # still ranked, marked
    for query in ("", "&data=bundled"):  # both data boards re-derived
        row = row_of(client, best, query)
        assert (row["flags"], row["flag_reason"]) == ([f"flagged: {REASON}"], REASON)
    assert board(client, "&hide_flagged=1") == [(middle, 2), (worst, 3)]
    assert board(client, "&data=bundled&hide_flagged=1") == []
    exported = list(csv.DictReader(io.StringIO(client.get("/api/v1/leaderboard.csv").text.lstrip("\ufeff"))))
    assert [line["flags"] for line in exported] == [f"flagged: {REASON}", "", ""]
    html = client.get("/?suite=smoke&lang=en").text
    assert f'title="flagged: by an administrator: {REASON}" data-reason="{REASON}"' in html
    page = client.get(f"/models/{best}?lang=en").text
    assert f"An administrator flagged this model: {REASON}" in page and 'id="hidden-notice"' not in page
    assert client.get(f"/api/v1/models/{best}").json()["flag_reason"] == REASON

    again = client.post(f"/api/v1/models/{best}/flag", json={"reason": REASON}, headers=admin)
    assert again.status_code == 409 and "already flagged" in again.json()["detail"]
    changed = client.post(f"/api/v1/models/{best}/flag", json={"reason": "re-run pending"}, headers=admin)
    assert changed.json()["flag_reason"] == "re-run pending"
    assert row_of(client, best)["flag_reason"] == "re-run pending"

    unflagged = client.delete(f"/api/v1/models/{best}/flag", headers=admin)
    assert unflagged.status_code == 200 and unflagged.json()["flag_reason"] is None
    assert (row_of(client, best)["flags"], row_of(client, best)["flag_reason"]) == ([], None)
    assert board(client, "&hide_flagged=1") == [(best, 1), (middle, 2), (worst, 3)]
    assert "An administrator flagged" not in client.get(f"/models/{best}?lang=en").text
    assert client.delete(f"/api/v1/models/{best}/flag", headers=admin).status_code == 409

    actions = audit_rows(client, admin, "model.")
    assert [(a["action"], a["target_type"], a["target_id"], a["actor_name"]) for a in actions] == [
        ("model.flag", "model", str(best), "root-admin"),
        ("model.flag", "model", str(best), "root-admin"),
        ("model.unflag", "model", str(best), "root-admin"),
    ]
    assert [(a["before"]["flag_reason"], a["after"]["flag_reason"]) for a in actions] == [
        (None, REASON),
        (REASON, "re-run pending"),
        ("re-run pending", None),
    ]


def test_an_admin_flag_sits_beside_machine_flags_and_leaves_them_when_removed(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    contaminated = "contaminated: training data shares 13-grams with mmlu_en_mini"
    (model_id,) = seed(url, [SeedModel("tuned", dict.fromkeys(SMOKE_METRICS, 0.5), flags=[contaminated])])
    client.post(f"/api/v1/models/{model_id}/flag", json={"reason": "<b>bold</b> claim"}, headers=admin)
    row = row_of(client, model_id)
    assert row["flags"] == [contaminated, "flagged: <b>bold</b> claim"]
    html = client.get("/?suite=smoke&lang=en").text
    assert f'title="flagged: by an administrator: &lt;b&gt;bold&lt;/b&gt; claim; {contaminated}"' in html
    model_page = client.get(f"/models/{model_id}?lang=en").text
    assert "<b>bold</b>" not in model_page and "&lt;b&gt;bold&lt;/b&gt; claim" in model_page
    client.delete(f"/api/v1/models/{model_id}/flag", headers=admin)
    assert row_of(client, model_id)["flags"] == [contaminated]
    assert board(client, "&hide_flagged=1") == []  # the machine flag still counts


def _result_count(url: str, model_id: int) -> int:
    with session_scope(url) as session:
        query = (
            select(func.count()).select_from(Result).join(EvalRequest).where(EvalRequest.model_id == model_id)
        )
        return int(session.scalar(query) or 0)


def _export_ids(client: TestClient, query: str = "") -> tuple[list[int], list[int]]:
    as_json = [row["model_id"] for row in client.get(f"/api/v1/leaderboard.json?suite=smoke{query}").json()]
    text = client.get(f"/api/v1/leaderboard.csv?suite=smoke{query}").text.lstrip("\ufeff")
    as_csv = [int(line["model_id"]) for line in csv.DictReader(io.StringIO(text))]
    return as_json, as_csv


def test_a_hidden_model_leaves_every_board_and_export_and_comes_back_with_its_rank(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    best, middle, worst = seed_board(url)
    results = _result_count(url, best)
    assert results == 6 and 'href="/models/' + str(best) + '"' in client.get("/?suite=smoke").text

    hidden = client.post(f"/api/v1/models/{best}/hide", headers=admin)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert board(client) == [(middle, 1), (worst, 2)]  # renumbered without it
    assert board(client, "&data=bundled") == []
    assert _export_ids(client) == ([middle, worst], [middle, worst])
    html = client.get("/?suite=smoke&lang=en").text
    assert f'href="/models/{best}"' not in html and f'href="/models/{middle}"' in html  # table and scatter
    assert "Sample data (not comparable) (0)" in html
    assert _result_count(url, best) == results  # the results stay
    assert client.get(f"/api/v1/models/{best}").json()["hidden"] is True
    assert best not in [m["id"] for m in client.get("/api/v1/models").json()]
    assert best in [m["id"] for m in client.get("/api/v1/models", headers=admin).json()]
    assert f'href="/models/{best}"' not in client.get("/compare").text
    page = client.get(f"/models/{best}?lang=en").text
    assert "An administrator has hidden this model" in page and 'id="suite-smoke-hub"' in page
    with session_scope(url) as session:  # a full rebuild keeps it off too
        entries.rebuild_all(session)
    assert board(client) == [(middle, 1), (worst, 2)]
    assert client.post(f"/api/v1/models/{best}/hide", headers=admin).status_code == 409

    shown = client.post(f"/api/v1/models/{best}/unhide", headers=admin)
    assert shown.status_code == 200 and shown.json()["hidden"] is False
    assert board(client) == [(best, 1), (middle, 2), (worst, 3)]
    assert board(client, "&data=bundled") == [(best, 1)]
    assert _export_ids(client) == ([best, middle, worst], [best, middle, worst])
    assert "An administrator has hidden" not in client.get(f"/models/{best}?lang=en").text
    assert client.post(f"/api/v1/models/{best}/unhide", headers=admin).status_code == 409

    actions = audit_rows(client, admin, "model.")
    assert [(a["action"], a["target_id"], a["before"]["hidden"], a["after"]["hidden"]) for a in actions] == [
        ("model.hide", str(best), False, True),
        ("model.unhide", str(best), True, False),
    ]


ADMIN_ROUTES = (
    ("POST", "/flag", {"reason": "spam"}),
    ("DELETE", "/flag", None),
    ("POST", "/hide", None),
    ("POST", "/unhide", None),
)


def test_only_administrators_act_and_a_refusal_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    member = member_headers(url)
    (model_id,) = seed(url, [SeedModel("one", dict.fromkeys(SMOKE_METRICS, 0.5))])
    client.post(f"/api/v1/models/{model_id}/flag", json={"reason": "kept"}, headers=admin)
    before_model = client.get(f"/api/v1/models/{model_id}").json()
    before_audit = client.get("/api/v1/audit", headers=admin).json()
    before_row = row_of(client, model_id)
    for method, suffix, body in ADMIN_ROUTES:
        path = f"/api/v1/models/{model_id}{suffix}"
        assert client.request(method, path, json=body, headers=member).status_code == 403, path
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert client.get(f"/api/v1/models/{model_id}").json() == before_model
    assert client.get("/api/v1/audit", headers=admin).json() == before_audit
    assert row_of(client, model_id) == before_row


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/models/999/flag", {"reason": "x"}, 404),
        (f"/api/v1/models/{2**31 - 1}/hide", None, 404),
        (f"/api/v1/models/{2**31}/hide", None, 422),  # more than the id column holds
        (f"/api/v1/models/{2**63}/unhide", None, 422),
        ("/api/v1/models/0/unhide", None, 422),
        ("/api/v1/models/MODEL/flag", {"reason": "   "}, 422),
        ("/api/v1/models/MODEL/flag", {"reason": "x" * 501}, 422),
        ("/api/v1/models/MODEL/flag", {"reason": "x", "hidden": True}, 422),
        ("/api/v1/models/MODEL/flag", {}, 422),
    ],
)
def test_bad_ids_and_bodies_are_refused_with_a_reason(
    client: TestClient, settings: Settings, path: str, body: dict[str, Any] | None, status: int
) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    (model_id,) = seed(url, [SeedModel("one", dict.fromkeys(SMOKE_METRICS, 0.5))])
    response = client.post(path.replace("MODEL", str(model_id)), json=body, headers=admin)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert audit_rows(client, admin, "model.") == []
    assert client.get(f"/api/v1/models/{model_id}").json()["flag_reason"] is None
    if status == 404:
        assert response.json()["detail"].startswith("no model with id")


def _submit(client: TestClient, headers: dict[str, str], precision: str) -> tuple[int, int]:
    """(model id, request id) of a member's submission."""
    response = client.post("/api/v1/models", json={"model": BUNDLED, "precision": precision}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["model_id"], response.json()["request_ids"][0]


def _fail_for_good(url: str, request_id: int, error: str) -> None:
    """What a worker does when the last attempt fails: the job and the request end FAILED."""
    with session_scope(url) as session:
        claimed = jobs.claim(session, "worker-1")
        assert claimed is not None and claimed.request_id == request_id
        runs.mark_running(session, request_id, "worker-1", claimed.attempt)
        jobs.fail(session, claimed, "worker-1", error, retry=False, backoff_seconds=0)
        runs.mark_failed_or_pending(session, request_id, error=error, log_tail="tail", final=True)


def _jobs_of(url: str, request_id: int) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(Job.status).where(Job.request_id == request_id).order_by(Job.id)))


def test_owners_requeue_their_failed_and_cancelled_requests(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    owner = member_headers(url, "member-a")
    other = member_headers(url, "member-b")
    model_id, failed = _submit(client, owner, "float32")
    _fail_for_good(url, failed, "CUDA out of memory")
    assert client.get(f"/api/v1/models/{model_id}").json()["submitted_by"] == "member-a"
    assert '<td id="submitted-by">member-a</td>' in client.get(f"/models/{model_id}").text

    assert client.post(f"/api/v1/requests/{failed}/requeue", headers=other).status_code == 403
    assert client.post(f"/api/v1/requests/{failed}/requeue").status_code == 401
    assert client.get(f"/api/v1/requests/{failed}").json()["status"] == "FAILED"
    requeued = client.post(f"/api/v1/requests/{failed}/requeue", headers=owner)
    assert requeued.status_code == 200, requeued.text
    body = requeued.json()
    assert (body["status"], body["error"], body["priority"]) == ("PENDING", None, 0)
    assert [(h["status"], h["error"], h["requeued_by"]) for h in body["history"]] == [
        ("FAILED", "CUDA out of memory", "member-a")
    ]
    assert _jobs_of(url, failed) == [JobStatus.FAILED, JobStatus.QUEUED]
    assert client.post(f"/api/v1/requests/{failed}/requeue", headers=owner).status_code == 409  # pending

    _, cancelled = _submit(client, owner, "bfloat16")
    assert client.post(f"/api/v1/requests/{cancelled}/cancel", headers=owner).status_code == 200
    again = client.post(f"/api/v1/requests/{cancelled}/requeue", headers=owner).json()
    assert again["status"] == "PENDING" and [h["status"] for h in again["history"]] == ["CANCELLED"]
    assert _jobs_of(url, cancelled) == [JobStatus.CANCELLED, JobStatus.QUEUED]

    _, finished = _submit(client, owner, "float16")
    finish(url, finished, 0.5)
    refused = client.post(f"/api/v1/requests/{finished}/requeue", headers=owner)
    assert refused.status_code == 409 and "only FAILED or CANCELLED" in refused.json()["detail"]
    actions = audit_rows(client, admin_headers(url), "request.")
    assert [(a["action"], a["target_id"], a["actor_name"]) for a in actions] == [
        ("request.requeue", str(failed), "member-a"),
        ("request.cancel", str(cancelled), "member-a"),
        ("request.requeue", str(cancelled), "member-a"),
    ]
    assert actions[0]["before"]["status"] == "FAILED" and actions[0]["after"]["status"] == "PENDING"


def test_administrators_change_a_waiting_requests_priority(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    admin = admin_headers(url)
    member = member_headers(url)
    _, request_id = _submit(client, member, "float32")
    assert client.get(f"/api/v1/requests/{request_id}").json()["priority"] == 0

    changed = client.patch(f"/api/v1/requests/{request_id}", json={"priority": 50}, headers=admin)
    assert changed.status_code == 200 and changed.json()["priority"] == 50
    assert client.get(f"/api/v1/requests/{request_id}").json()["priority"] == 50
    assert (
        client.patch(f"/api/v1/requests/{request_id}", json={"priority": 99}, headers=member).status_code
        == 403
    )
    too_big = client.patch(f"/api/v1/requests/{request_id}", json={"priority": 10**6}, headers=admin)
    assert too_big.status_code == 422 and "priority" in too_big.text
    assert client.get(f"/api/v1/requests/{request_id}").json()["priority"] == 50
    (entry,) = audit_rows(client, admin, "request.priority")
    assert (entry["before"], entry["after"], entry["actor_name"]) == (
        {"priority": 0},
        {"priority": 50},
        "root-admin",
    )
