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


class RequestPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(..., ge=-1000, le=1000, description="Higher runs first; 0 is the default")
