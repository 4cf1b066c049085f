"""Judged results through the real storage path (runs.mark_finished, the board's index) on SQLite
and PostgreSQL: one judge per judged column, and what the judge cost in the request's API, on the
model page and summed per suite."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, LlmModel, RequestStatus
from tests.support.auth import admin_client

SUITE = "logickor"


def judged(value: float, judge_model: str, version: str = "single-ko@1", calls: int = 20) -> dict[str, Any]:
    """ko_logickor's primary row as harness/judged.py records it."""
    usage = {"requests": calls + 4, "cache_hits": 4, "calls": calls, "retries": 0, "failed": 0,
             "prompt_tokens": 500 * calls, "completion_tokens": 110 * calls,
             "cost_usd": 0.0035 * calls}  # fmt: skip
    estimate = {"requests": calls + 4, "cache_hits": 4, "calls": calls + 1, "follow_up_calls": 1,
                "prompt_tokens": 520 * calls, "completion_tokens": 120 * calls, "cost_usd": 0.0037 * calls,
                "token_rule": "ASCII 4 chars/token"}  # fmt: skip
    judge = {"method": "single", "judge_model": judge_model, "prompt_version": version, "usage": usage,
             "estimate": estimate, "request_estimate": estimate, "budget_usd": 1.0, "repeats": 3}  # fmt: skip
    return {"benchmark": "ko_logickor", "task": "evalboard_judge_ko_logickor", "metric": "mt_bench",
            "value": value, "stderr": 0.02, "n": 48, "is_primary": True,
            "provenance": {"data_source": "bundled", "judge": judge}}  # fmt: skip


def finish(
    settings: Settings, name: str, row: dict[str, Any], model_id: int | None = None
) -> tuple[int, int]:
    """A finished request of `name` (a new model, or `model_id` again); (model id, request id)."""
    with session_scope(settings.resolved_database_url) as session:
        if model_id is None:
            model = LlmModel(reference=f"org/{name}", source="hub", name=name, precision="bfloat16",
                             model_type="chat")  # fmt: skip
            session.add(model)
            session.flush()
            model_id = model.id
        request = EvalRequest(model_id=model_id, suite=SUITE, status=RequestStatus.RUNNING)
        session.add(request)
        session.flush()
        runs.mark_finished(session, request.id, [row], "/tmp", "", data_source="bundled")
        return model_id, request.id


def board(client: TestClient) -> tuple[str | None, dict[str, dict[str, Any]]]:
    page = client.get("/api/v1/leaderboard", params={"suite": SUITE, "data": "bundled"}).json()
    return page["benchmarks"][0]["judge"], {row["model"]: row for row in page["rows"]}


def test_a_judged_column_ranks_one_judge_and_sets_the_others_apart(settings: Settings) -> None:
    with admin_client(settings) as client:
        finish(settings, "alpha", judged(0.6, "judge-x"))
        finish(settings, "beta", judged(0.8, "judge-x"))
        judge, rows = board(client)
        assert judge == "judge-x · single-ko@1"
        assert [(rows[m]["rank"], rows[m]["average"]) for m in ("beta", "alpha")] == [(1, 0.8), (2, 0.6)]

        alpha = rows["alpha"]["model_id"]
        finish(settings, "gamma", judged(0.5, "judge-y"))  # the server's judge changed: a new column
        judge, rows = board(client)
        assert judge == "judge-y · single-ko@1"
        assert rows["gamma"]["rank"] == 1 and rows["gamma"]["average"] == 0.5
        for name in ("alpha", "beta"):
            cell = rows[name]["scores"]["ko_logickor"]
            assert cell["value"] is None and cell["judge_apart"] and cell["judge"] == "judge-x · single-ko@1"
            assert rows[name]["average"] is None and rows[name]["rank"] > 1
        page = client.get("/", params={"suite": SUITE, "data": "bundled"}).text
        assert "심사 judge-y · single-ko@1" in page and page.count('class="num score judge-apart"') == 2
        assert "다른 심사" in page  # the cell says why it has no value

        finish(settings, "alpha", judged(0.7, "judge-y"), model_id=alpha)  # re-judged: counts again
        _, rows = board(client)
        assert [rows[m]["rank"] for m in ("alpha", "gamma", "beta")] == [1, 2, 3]
        assert rows["alpha"]["scores"]["ko_logickor"]["judge_apart"] is False

        finish(settings, "delta", judged(0.4, "judge-y", version="single-ko@2"))  # a new prompt version
        judge, rows = board(client)
        assert judge == "judge-y · single-ko@2" and rows["delta"]["rank"] == 1
        assert all(rows[m]["average"] is None for m in ("alpha", "beta", "gamma"))


def test_what_the_judge_cost_is_in_the_request_the_model_page_and_the_suite_total(settings: Settings) -> None:
    with admin_client(settings) as client:
        model_id, first = finish(settings, "alpha", judged(0.6, "judge-x", calls=20))
        _, second = finish(settings, "beta", judged(0.8, "judge-x", calls=10))
        usage = client.get(f"/api/v1/requests/{first}").json()["judge_usage"]
        assert usage["judges"] == ["judge-x · single-ko@1"] and usage["benchmarks"] == 1
        assert (usage["requests"], usage["cache_hits"], usage["calls"]) == (24, 4, 20)
        assert (usage["prompt_tokens"], usage["completion_tokens"]) == (10_000, 2_200)
        assert abs(usage["cost_usd"] - 0.07) < 1e-9 and usage["budget_usd"] == 1.0 and usage["repeats"] == 3
        assert usage["estimate"]["calls"] == 21 and abs(usage["estimate"]["cost_usd"] - 0.074) < 1e-9

        total = client.get(f"/api/v1/suites/{SUITE}/judge-usage").json()
        assert total["suite"] == SUITE and total["finished_requests"] == 2
        assert (total["total"]["calls"], total["total"]["benchmarks"]) == (30, 2)
        assert abs(total["total"]["cost_usd"] - 0.105) < 1e-9
        assert abs(total["total"]["estimate"]["cost_usd"] - 0.111) < 1e-9
        assert client.get("/api/v1/suites/smoke/judge-usage").json() == {
            "suite": "smoke",
            "finished_requests": 0,
            "total": None,
        }
        missing = client.get("/api/v1/suites/nope/judge-usage")
        assert missing.status_code == 404 and "known suites" in missing.json()["detail"]

        page = client.get(f"/models/{model_id}", params={"lang": "en"}).text
        assert "Judge judge-x · single-ko@1: 24 requests (4 from the judge cache), 20 calls" in page
        assert "cost $0.0700" in page and "estimated before judging: 21 calls, $0.0740" in page
        assert client.get(f"/api/v1/requests/{second}").json()["judge_usage"]["calls"] == 10
