"""Evaluation request and result output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    benchmark: str
    task: str
    metric: str
    value: float
    stderr: float | None
    n: int | None
    is_primary: bool
    provenance: dict[str, Any]


class JudgeEstimateOut(BaseModel):
    calls: int = Field(description="Judge calls expected: requests not in the judge cache, plus follow-ups")
    follow_up_calls: int = Field(0, description="Of those, the allowance for replies asked again")
    cache_hits: int = Field(description="Planned requests the judge cache already answered (free)")
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(description="From EVALBOARD_JUDGE_PRICE_*; None: the judge has no prices")
    token_rule: str | None = None


class JudgeUsageOut(BaseModel):
    """What judging cost, summed over judged benchmarks: recorded usage and the estimate made
    before the first judge call."""

    judges: list[str] = Field(description="Who judged: 'judge model · prompt version', each distinct one")
    benchmarks: int = Field(description="Judged benchmarks summed here")
    requests: int = Field(description="Judge requests made (repeats and follow-ups included)")
    cache_hits: int = Field(description="Requests answered by the judge cache, at no cost")
    calls: int = Field(description="HTTP calls to the judge, retries included")
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(description="Recorded cost; None: the judge has no prices")
    estimate: JudgeEstimateOut | None = Field(None, description="The estimate made before judging began")
    budget_usd: float | None = Field(None, description="EVALBOARD_JUDGE_BUDGET_USD when the run was made")
    repeats: int | None = Field(None, description="Times each item was graded (the median counts)")


class SuiteJudgeUsageOut(BaseModel):
    suite: str
    finished_requests: int = Field(description="Finished requests of the suite with judged results")
    total: JudgeUsageOut | None = Field(description="Summed over them; None: none was judged yet")


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_id: int
    model_reference: str
    model_name: str
    suite: str
    data_source: str | None  # hub | private | bundled | mixed; None until finished (or a legacy row)
    status: str
    progress: float
    current_task: str | None
    error: str | None
    log_tail: str | None
    worker: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    submitted_by: str | None = None  # the submitter's user name; None: the server's command line
    priority: int | None = None  # of its waiting job (higher runs first); None when nothing waits
    history: list[dict[str, Any]] = []  # earlier ends of a requeued request
    results: list[ResultOut] = []
    judge_usage: JudgeUsageOut | None = Field(
        None, description="Judged suites: the judge's calls, tokens, cache hits and cost, and the estimate"
    )


class RequestPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(..., ge=-1000, le=1000, description="Higher runs first; 0 is the default")
