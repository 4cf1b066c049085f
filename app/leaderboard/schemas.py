"""Leaderboard output shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Score(BaseModel):
    value: float
    stderr: float | None
    n: int | None
    metric: str


class LeaderboardRow(BaseModel):
    rank: int
    model_id: int
    request_id: int
    model: str
    reference: str
    model_type: str
    precision: str
    weight_type: str
    params_b: float | None
    licence: str | None
    average: float | None
    scores: dict[str, Score]
    submitted_at: datetime
    evaluated_at: datetime | None


class BenchmarkColumn(BaseModel):
    name: str
    display_en: str
    display_ko: str
    metric: str


class LeaderboardPage(BaseModel):
    suite: str
    total: int
    limit: int
    offset: int
    benchmarks: list[BenchmarkColumn]
    rows: list[LeaderboardRow]
