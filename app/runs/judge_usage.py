"""What the LLM judge cost: per request (its API and the model page) and per suite (a total over
its finished requests).

Read from the results: each judged benchmark's primary row records, under provenance["judge"],
the judge's usage for that benchmark (requests, cache hits, calls, tokens, cost), the estimate
made for it before the first judge call, the request's whole estimate, the budget and the
repeats (harness/judged.py). Nothing is stored twice: these are sums of those records. A
request the budget stopped stored no results; its error message says what was spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.leaderboard.judge_columns import identity
from app.runs.schemas import JudgeEstimateOut, JudgeUsageOut, SuiteJudgeUsageOut
from app.tables import EvalRequest, RequestStatus, Result
from benchmarks.catalog import get_suite

COUNTED = ("requests", "cache_hits", "calls", "prompt_tokens", "completion_tokens")


def _judge_records(provenances: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The primary judged rows' provenance among these (those that recorded usage)."""
    return [p for p in provenances if p and isinstance((p.get("judge") or {}).get("usage"), dict)]


def _add_cost(total: float | None, cost: Any) -> float | None:
    return total if cost is None else (total or 0.0) + float(cost)


def total(provenances: Iterable[dict[str, Any] | None], *, per_request: bool = True) -> JudgeUsageOut | None:
    """Usage summed over judged benchmarks' provenance; None when none was judged. `per_request`:
    one request's rows (their shared request estimate, budget and repeats are reported too)."""
    records = _judge_records(provenances)
    if not records:
        return None
    sums = dict.fromkeys(COUNTED, 0)
    cost: float | None = None
    judges: list[str] = []
    for provenance in records:
        judge = provenance["judge"]
        usage = judge["usage"]
        for key in COUNTED:
            sums[key] += int(usage.get(key) or 0)
        cost = _add_cost(cost, usage.get("cost_usd"))
        who = identity(provenance)
        if who and who not in judges:
            judges.append(who)
    first = records[0]["judge"]
    estimate = _estimate([r["judge"] for r in records], per_request)
    return JudgeUsageOut(
        judges=judges,
        benchmarks=len(records),
        cost_usd=cost,
        estimate=estimate,
        budget_usd=first.get("budget_usd") if per_request else None,
        repeats=first.get("repeats") if per_request else None,
        **sums,
    )


def _estimate(judges: list[dict[str, Any]], per_request: bool) -> JudgeEstimateOut | None:
    """The request's own estimate (every row carries it), or the per-benchmark ones summed."""
    if per_request and isinstance(judges[0].get("request_estimate"), dict):
        return JudgeEstimateOut(**judges[0]["request_estimate"])
    parts = [j["estimate"] for j in judges if isinstance(j.get("estimate"), dict)]
    if not parts:
        return None
    fields = ("calls", "follow_up_calls", "cache_hits", "prompt_tokens", "completion_tokens")
    summed: dict[str, Any] = {key: sum(int(p.get(key) or 0) for p in parts) for key in fields}
    cost: float | None = None
    for part in parts:
        cost = _add_cost(cost, part.get("cost_usd"))
    return JudgeEstimateOut(**summed, cost_usd=cost, token_rule=parts[0].get("token_rule"))


def request_usage(results: Iterable[Result]) -> JudgeUsageOut | None:
    return total(r.provenance for r in results if r.is_primary)


def suite_usage(session: Session, suite_name: str, private_dir: Path | None) -> SuiteJudgeUsageOut:
    """The judge's usage summed over every finished request of a suite (all data boards)."""
    try:
        get_suite(suite_name, private_dir)
    except KeyError as exc:
        raise NotFound(exc.args[0]) from None
    rows = session.execute(
        select(Result.request_id, Result.provenance)
        .join(EvalRequest, Result.request_id == EvalRequest.id)
        .where(
            EvalRequest.suite == suite_name,
            EvalRequest.status == RequestStatus.FINISHED,
            Result.is_primary.is_(True),
        )
    ).all()
    judged = [(request_id, provenance) for request_id, provenance in rows if _judge_records([provenance])]
    return SuiteJudgeUsageOut(
        suite=suite_name,
        finished_requests=len({request_id for request_id, _ in judged}),
        total=total((provenance for _, provenance in judged), per_request=False),
    )
