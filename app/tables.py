"""The relational schema (SQLAlchemy 2 typed style). Migrations in migrations/ mirror this file."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class RequestStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


ACTIVE_REQUEST_STATUSES = (RequestStatus.PENDING, RequestStatus.RUNNING)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FineTuneStatus(enum.StrEnum):
    QUEUED = "queued"
    TRAINING = "training"
    EVALUATING = "evaluating"  # the adapter is saved; the same process evaluates it
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_FINETUNE_STATUSES = (FineTuneStatus.QUEUED, FineTuneStatus.TRAINING, FineTuneStatus.EVALUATING)


class LlmModel(Base):
    """A language model under test (named LlmModel so it never reads as an ORM 'model')."""

    __tablename__ = "model"
    __table_args__ = (UniqueConstraint("reference", "revision", "precision", "weight_type", "base_model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16))  # bundled | local | hub
    name: Mapped[str] = mapped_column(String(256))
    revision: Mapped[str] = mapped_column(String(128), default="main")
    commit_sha: Mapped[str | None] = mapped_column(String(128))
    precision: Mapped[str] = mapped_column(String(16))
    weight_type: Mapped[str] = mapped_column(String(16), default="original")
    base_model: Mapped[str | None] = mapped_column(String(512))
    model_type: Mapped[str] = mapped_column(String(32))
    params_b: Mapped[float | None] = mapped_column(Float)
    licence: Mapped[str | None] = mapped_column(String(128))
    use_chat_template: Mapped[bool] = mapped_column(Boolean, default=False)
    # openai: endpoints only: log-likelihood requests are tokenized locally with this tokenizer.
    tokenizer: Mapped[str | None] = mapped_column(String(512))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # An admin's flag (its reason), shown beside flags; hidden models leave every board and export.
    flag_reason: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    requests: Mapped[list[EvalRequest]] = relationship(back_populates="model", lazy="raise")


class EvalRequest(Base):
    """One model evaluated on one suite. Re-running creates a new request; nothing is overwritten."""

    __tablename__ = "eval_request"
    __table_args__ = (
        # The same model cannot be queued twice for a suite while a request is pending or running.
        Index(
            "uq_eval_request_active",
            "model_id",
            "suite",
            unique=True,
            sqlite_where=text("status IN ('PENDING', 'RUNNING')"),
            postgresql_where=text("status IN ('PENDING', 'RUNNING')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), index=True)
    suite: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    current_task: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    artifacts_path: Mapped[str | None] = mapped_column(String(1024))
    # hub | private | bundled | mixed, set when the results are stored: the board ranks real-data
    # scores apart from sample-data ones (NULL: a request finished before this was recorded).
    data_source: Mapped[str | None] = mapped_column(String(16))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # Earlier ends of a requeued request: [{status, error, attempts, finished_at, requeued_by, at}].
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    model: Mapped[LlmModel] = relationship(back_populates="requests", lazy="raise")
    results: Mapped[list[Result]] = relationship(back_populates="request", lazy="raise")


class Result(Base):
    """One metric of one benchmark of one request. Immutable once written."""

    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("request_id", "task", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("eval_request.id", ondelete="CASCADE"), index=True)
    benchmark: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    stderr: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    request: Mapped[EvalRequest] = relationship(back_populates="results", lazy="raise")


class Job(Base):
    """The queue. Workers claim rows; the reaper returns rows whose worker stopped heartbeating."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_claimable", "status", "priority", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="eval")
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("eval_request.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class LeaderboardEntry(Base):
    """The board's index: one row per (suite, data board, model) holding the model's latest finished
    request there, its scores and the model facts the board filters on.

    Written in the same transaction that stores a request's results (app/leaderboard/entries.py), so
    the board is a plain indexed query: filters, sort and keyset pages stay fast with 10,000 models
    instead of ranking every finished request in Python on each view."""

    __tablename__ = "leaderboard_entry"
    __table_args__ = (UniqueConstraint("suite", "board", "model_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suite: Mapped[str] = mapped_column(String(64))
    board: Mapped[str] = mapped_column(String(16))  # hub (real data) | bundled (sample data)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("eval_request.id", ondelete="CASCADE"), index=True)
    average: Mapped[float | None] = mapped_column(Float)  # None: a benchmark is missing
    # Suites with normalized benchmarks: the mean of the raw primary metrics (the raw view's sort).
    average_raw: Mapped[float | None] = mapped_column(Float)
    # {benchmark: {value, stderr, n, metric, raw, raw_stderr}}. JSONB on PostgreSQL: sorting by a
    # benchmark reads one key of every filtered row, and plain json would re-parse each document.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)
    name: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(String(512))
    # model_type, or "adapter" for adapter weights: the board's type icon and filter.
    kind: Mapped[str] = mapped_column(String(32))
    model_type: Mapped[str] = mapped_column(String(32))
    precision: Mapped[str] = mapped_column(String(16))
    weight_type: Mapped[str] = mapped_column(String(16))
    params_b: Mapped[float | None] = mapped_column(Float)
    licence: Mapped[str | None] = mapped_column(String(128))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # flags is non-empty (a plain filter)
    data_source: Mapped[str | None] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Honest ranks (app/leaderboard/rank_stats.py), from a seeded paired bootstrap of the item scores
    # when results are written. None: no item scores to bootstrap (or an incomplete run).
    ci_low: Mapped[float | None] = mapped_column(Float)  # 95 % percentile interval on the average
    ci_high: Mapped[float | None] = mapped_column(Float)
    p_above_next: Mapped[float | None] = mapped_column(Float)  # P(this average > the next rank's)
    tied_with_next: Mapped[bool | None] = mapped_column(Boolean)  # p_above_next < 0.95
    # {benchmark: P(this score > the next rank's score)} over the benchmarks both rows average.
    pair_stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "REQUEST>NEXT_REQUEST" the figures above were computed for: a row whose key no longer matches
    # (its request or its successor changed) is recomputed, and only those.
    stats_key: Mapped[str | None] = mapped_column(String(48))
    # The row as the API shows it, less what moves without the row changing (rank and its interval,
    # lineage): JSON text written with the row and its bootstrap figures (app/leaderboard/payload.py),
    # so a page is an index range scan and a concatenation. None: written before revision 0009.
    payload: Mapped[str | None] = mapped_column(Text)
    # Its place on the board, kept apart (BoardRank); loaded with the row.
    position: Mapped[BoardRank] = relationship(lazy="joined", viewonly=True)

    @property
    def rank(self) -> int:
        return self.position.rank

    @property
    def rank_low(self) -> int | None:
        return self.position.rank_low

    @property
    def rank_high(self) -> int | None:
        return self.position.rank_high


class BoardRank(Base):
    """A board row's rank and rank interval, apart from the row. A model landing mid-board shifts the
    rank of every row below it: thousands of rows rewritten per finished request. Rewriting the wide,
    heavily indexed leaderboard_entry row for that cost a second per write on 10,000 models; this
    narrow row has no index but its key, and half-empty pages on PostgreSQL (fillfactor 50), so a
    shift is an in-place (HOT) update of a few dozen bytes. Written and deleted with its row."""

    __tablename__ = "board_rank"
    __table_args__ = ({"postgresql_with": {"fillfactor": 50}},)

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_entry.id", ondelete="CASCADE"), primary_key=True
    )
    # 1..n by average (incomplete runs last), then model id; the same in every filtered view. The
    # order is that of the average index, which a default view reads; the number is only shown.
    rank: Mapped[int] = mapped_column(Integer)
    # The rank interval, stored as its reach above and below `rank`: a new model shifts the rank of
    # every row below it, but the reach only of rows whose intervals overlap its own.
    rank_span_up: Mapped[int | None] = mapped_column(Integer)
    rank_span_down: Mapped[int | None] = mapped_column(Integer)

    @property
    def rank_low(self) -> int | None:
        """Best rank the intervals allow: 1 + rows whose ci_low is above this ci_high."""
        return None if self.rank_span_up is None else self.rank - self.rank_span_up

    @property
    def rank_high(self) -> int | None:
        """Worst rank the intervals allow: rows whose ci_high is at or above this ci_low."""
        return None if self.rank_span_down is None else self.rank + self.rank_span_down


class BoardCell(Base):
    """One averaged benchmark score of a board row, apart from the row: sorting the board by a
    benchmark is then an index range scan here (migration 0009) instead of reading the score out of
    every row's scores. Written and deleted with its row; a benchmark the row does not average here
    (missing, or run on the other board's data) has no cell and sorts last."""

    __tablename__ = "board_cell"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_entry.id", ondelete="CASCADE"), primary_key=True
    )
    benchmark: Mapped[str] = mapped_column(String(64), primary_key=True)
    suite: Mapped[str] = mapped_column(String(64))
    board: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    raw_value: Mapped[float] = mapped_column(Float)  # the raw view's key: the raw score, else value


class ItemSet(Base):
    """The items a benchmark's per-item scores are about ("task:doc_id" ids and their weights), stored
    once per distinct set: thousands of models share one, and their scores only point at it."""

    __tablename__ = "item_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of ids and weights
    n: Mapped[int] = mapped_column(Integer)
    ids: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the ids, one per line
    weights: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32; None: every weight is 1


class ItemScore(Base):
    """One request's per-item primary scores on one benchmark (harness/item_scores.py), in its item
    set's order. Numbers only; never served, so a private benchmark's are kept like any other's."""

    __tablename__ = "item_score"
    __table_args__ = (UniqueConstraint("request_id", "benchmark"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("eval_request.id", ondelete="CASCADE"), index=True)
    benchmark: Mapped[str] = mapped_column(String(64))
    item_set_id: Mapped[int] = mapped_column(ForeignKey("item_set.id"), index=True)
    encoding: Mapped[str] = mapped_column(String(8))  # bits (0/1 scores, packed) | f4 (float32)
    scores: Mapped[bytes] = mapped_column(LargeBinary)


class BoardVersion(Base):
    """A single row whose version changes with every change to leaderboard_entry (same transaction):
    the key under which rendered board views are cached (app/leaderboard/cache.py)."""

    __tablename__ = "board_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class JudgeResponse(Base):
    """A judge model's reply, kept so that re-judging the same messages costs nothing. The key is
    a hash of the judge model, the prompt version, the messages and the sampling parameters
    (evaluators/judge/client.py: request_key); rows are never updated."""

    __tablename__ = "judge_response"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    judge_model: Mapped[str] = mapped_column(String(256))
    prompt_version: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FineTune(Base):
    """A LoRA fine-tune job: its inputs, its live progress and what it produced. The tuned model
    (tuned_model_id) is an ordinary model row (weight_type adapter) whose lineage leads back here."""

    __tablename__ = "finetune"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), index=True)
    base_reference: Mapped[str] = mapped_column(String(512))
    dataset_name: Mapped[str] = mapped_column(String(512))  # the upload's file name, or hub:ORG/NAME
    dataset_path: Mapped[str | None] = mapped_column(String(1024))  # the server's copy of an upload
    dataset_sha256: Mapped[str | None] = mapped_column(String(64))
    examples: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # LoRA and training settings
    suites: Mapped[list[str]] = mapped_column(JSON, default=list)  # evaluated when training ends
    status: Mapped[str] = mapped_column(String(16), default=FineTuneStatus.QUEUED, index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), index=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int | None] = mapped_column(Integer)
    losses: Mapped[list[list[float]]] = mapped_column(JSON, default=list)  # [[step, loss], ...]
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    tokens_per_second: Mapped[float | None] = mapped_column(Float)
    # When training ends: loss before/after on the training rows, tokens, seconds, the hand-off time
    # from the last optimizer step to the recorded evaluation, and whether it ran in memory.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # {"ngram": 13, "items_checked": n, "overlaps": [{benchmark, item, line, ngram}, ...]}
    contamination: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    adapter_path: Mapped[str | None] = mapped_column(String(1024))
    tuned_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("model.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


# The identity tables share this metadata (foreign keys to "user" above resolve through it), and
# importing this module must register them for create_all and Alembic.
from app.auth.tables import ApiToken, AuditLog, SignInLink, User, WebSession  # noqa: E402, F401
