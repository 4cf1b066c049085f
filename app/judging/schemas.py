"""POST /api/v1/judge and GET /api/v1/judge/{judge_id}: a judge job and, once done, its results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class JudgeJobOut(BaseModel):
    id: int
    status: str = Field(description="queued | running | done | failed | cancelled")
    method: str = Field(description="pairwise | single | geval")
    lang: str = Field(description="The judge prompts' language: ko | en")
    items: int = Field(description="Items in the file")
    file_name: str | None
    sha256: str = Field(description="SHA-256 of the file as sent")
    korean_penalty: bool | None = Field(
        None, description="single: the Korean penalty, when set by the request"
    )
    submitted_by: str | None = None
    attempts: int
    error: str | None = Field(None, description="The last failed attempt's error (a retry may follow)")
    created_at: datetime
    finished_at: datetime | None
    status_url: str
    result: dict[str, Any] | None = Field(
        None,
        description="When done: {method, lang, n, summary, items (one per line of the file, in order), judge "
        "(model, endpoint, usage, estimate)}",
    )
