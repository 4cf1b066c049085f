"""Leaderboard output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.leaderboard.entries import ADMIN_FLAG_PREFIX


class Score(BaseModel):
    value: float | None = Field(
        description="None: the benchmark ran on the other board's data (see `data`) and is not averaged here"
    )
    stderr: float | None
    n: int | None
    metric: str
    raw: float | None = Field(
        None,
        description="Normalized benchmarks (Open LLM v2): the raw primary metric the score was normalized "
        "from; None elsewhere.",
    )
    raw_stderr: float | None = None
    data: str | None = Field(
        None,
        description="The data this benchmark ran on: hub or private (real) or bundled (sample); decided per "
        "benchmark, so a partly real run ranks on the real board with its real benchmarks only",
    )
    judge: str | None = Field(
        None, description="Judged benchmarks: who judged this score, 'judge model · prompt version'"
    )
    judge_apart: bool = Field(
        False,
        description="True: judged by another judge than the column's (see the column's `judge`), so shown "
        "without a value here and not averaged or ranked; a re-run with the column's judge counts again",
    )
    p_above_next: float | None = Field(
        None,
        description="P(this score > the next rank's score on this benchmark): paired bootstrap over the "
        "items both were scored on (1,000 seeded resamples, a tie counts half); None: no item scores",
    )
    tied_with_next: bool | None = Field(
        None, description="p_above_next < 0.95: not distinguishable from the next rank on this benchmark"
    )


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
    ci_low: float | None = Field(
        None,
        description="95 % percentile bootstrap interval on the average (1,000 seeded resamples of the "
        "model's items within each benchmark); None: no item scores, or an incomplete run",
    )
    ci_high: float | None = None
    rank_low: int | None = Field(
        None, description="Best rank the intervals allow: 1 + models whose ci_low is above this ci_high"
    )
    rank_high: int | None = Field(
        None, description="Worst rank the intervals allow: models whose ci_high is at or above this ci_low"
    )
    p_above_next: float | None = Field(
        None,
        description="P(this average > the average of rank + 1): paired bootstrap over the items both models "
        "share (1,000 seeded resamples; a tie counts half); None: last row, or no item scores to compare",
    )
    tied_with_next: bool | None = Field(
        None,
        description="True when p_above_next < 0.95 (one-sided): this model and rank + 1 are not "
        "distinguishable at 95 %, so the board marks them tied",
    )
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
    judge: str | None = Field(
        None,
        description="Judged benchmarks: the column's judge, 'judge model · prompt version' (that of its "
        "latest result on this board); scores from any other judge are kept apart",
    )


class BoardStanding(BaseModel):
    """A model's place on one board (suite, data board): rank, average and the bootstrap figures."""

    suite: str
    board: str = Field(description="hub (real datasets) or bundled (sample data)")
    rank: int
    average: float | None
    ci_low: float | None = Field(description="95 % bootstrap interval on the average; None: no item scores")
    ci_high: float | None
    rank_low: int | None = Field(description="Best rank the intervals allow")
    rank_high: int | None = Field(description="Worst rank the intervals allow")
    p_above_next: float | None = Field(description="P(average > rank + 1's average), paired bootstrap")
    tied_with_next: bool | None = Field(description="p_above_next < 0.95: not distinguishable from rank + 1")


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
