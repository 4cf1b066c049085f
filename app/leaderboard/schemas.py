"""Leaderboard output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.leaderboard.entries import ADMIN_FLAG_PREFIX


class Score(BaseModel):
    value: float
    stderr: float | None
    n: int | None
    metric: str
    raw: float | None = Field(
        None,
        description="Normalized benchmarks (Open LLM v2): the raw primary metric the score was normalized "
        "from; None elsewhere.",
    )
    raw_stderr: float | None = None


class RowLineage(BaseModel):
    """Adapters and deltas: what they were built on, and how they compare with it."""

    base_model: str
    base_model_id: int | None = Field(description="The base's row on this board; None: not evaluated here")
    base_name: str | None
    finetune_id: int | None = Field(description="The fine-tune job that trained it, if it was trained here")
    delta_average: float | None = Field(description="Average minus the base's average on this board")
    delta: dict[str, float] = Field(description="Per benchmark: this model's score minus the base's")


class LeaderboardRow(BaseModel):
    rank: int = Field(description="Position on the whole board (by average), the same in every filtered view")
    model_id: int
    request_id: int
    model: str
    reference: str
    kind: str = Field(description="pretrained, continuously_pretrained, fine_tuned, chat, merge or adapter")
    model_type: str
    precision: str
    weight_type: str
    params_b: float | None
    licence: str | None
    flags: list[str] = Field(
        description="Machine flags (e.g. contamination) and, last, an administrator's as 'flagged: REASON'"
    )
    flag_reason: str | None = Field(None, description="The administrator's reason, when one flagged it")
    data_source: str | None
    average: float | None
    average_raw: float | None = Field(description="Suites with normalized benchmarks: the raw mean")
    scores: dict[str, Score]
    submitted_at: datetime
    evaluated_at: datetime | None
    lineage: RowLineage | None = None

    @property
    def other_flags(self) -> list[str]:
        """flags without the administrator's, which the page words itself in its own language."""
        if self.flag_reason is None:
            return list(self.flags)
        admin_flag = ADMIN_FLAG_PREFIX + self.flag_reason
        return [flag for flag in self.flags if flag != admin_flag]


class BenchmarkColumn(BaseModel):
    name: str
    display_en: str
    display_ko: str
    metric: str
    normalized: bool = False  # the cell's value is score_normalized; its raw is `metric`


class LeaderboardPage(BaseModel):
    suite: str
    data: str = Field(description="hub: real datasets; bundled: sample data (also mixed and unlabelled runs)")
    comparable: bool = Field(description="False for sample data: a pipeline check, not a ranking")
    data_note: str
    view: str = Field(description="normalized or raw (suites with normalized benchmarks)")
    query: dict[str, Any] = Field(description="This view's filters and sort as query parameters")
    total: int = Field(description="Rows matching the filters")
    limit: int
    next_after: str | None = Field(description="Pass as `after` for the next page; None on the last page")
    benchmarks: list[BenchmarkColumn]
    rows: list[LeaderboardRow]
