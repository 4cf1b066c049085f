"""What a model's page shows: its lineage, its latest scores per suite and data board with their
provenance, and a CSV of those scores. Read-only; the pages in app/web/pages.py call these.

Scores come from the stored result rows of each (suite, data board)'s latest finished request, the
same request the board ranks, so the page and the board never disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.leaderboard.entries import DATA_BOARDS, board_of
from app.leaderboard.export import spreadsheet_safe
from app.leaderboard.schemas import BoardStanding
from app.leaderboard.service import standings
from app.submissions.schemas import ModelOut
from app.submissions.service import get_model, model_out
from app.tables import EvalRequest, FineTune, LlmModel, RequestStatus, Result
from benchmarks.catalog import all_suites
from benchmarks.spec import BenchmarkSpec, Suite

# Provenance keys the page lists first, in this order (the harness records more; all are shown).
PROVENANCE_KEYS = (
    "lm_eval_version",
    "task",
    "task_version",
    "task_config_hash",
    "benchmark_version",
    "num_fewshot",
    "data_source",
    "backend",
    "dtype",
    "model_commit",
    "apply_chat_template",
    "chat_template_hash",
    "limit",
    "seeds",
    "started_at",
    "finished_at",
)
# Stated apart from the table: the command in its own <pre>, the rest too long for a cell.
PROVENANCE_SHOWN_APART = ("reproduce", "backend_args", "host", "response_cache", "subtask_baselines")
# model.id is a 32-bit integer column: a larger number names no model (and PostgreSQL would refuse it).
LARGEST_ID = 2**31 - 1


@dataclass(frozen=True)
class BenchmarkScore:
    benchmark: str
    display_en: str
    display_ko: str
    metric: str
    value: float
    stderr: float | None
    n: int | None
    raw: float | None  # normalized benchmarks: the raw primary metric the score came from
    normalized: bool
    private: bool
    provenance: dict[str, Any]

    @property
    def reproduce(self) -> str | None:
        command = self.provenance.get("reproduce")
        return command if isinstance(command, str) and command else None

    def provenance_rows(self) -> list[tuple[str, str]]:
        """(key, value) pairs for the provenance table: the known keys first, then any others."""
        rest = sorted(k for k in self.provenance if k not in PROVENANCE_KEYS + PROVENANCE_SHOWN_APART)
        return [
            (key, _plain(self.provenance[key]))
            for key in (*PROVENANCE_KEYS, *rest)
            if self.provenance.get(key) is not None
        ]


@dataclass(frozen=True)
class SuiteResult:
    """One model's latest finished request on one suite and data board."""

    suite: str
    title_en: str
    title_ko: str
    board: str  # hub (real data) | bundled (sample data)
    data_source: str | None
    request_id: int
    finished_at: datetime | None
    scores: list[BenchmarkScore]
    missing: list[str] = field(default_factory=list)  # the suite's benchmarks with no score
    standing: BoardStanding | None = None  # its board row: rank, 95 % interval, rank interval, tie

    @property
    def average(self) -> float | None:
        """The board's average: only over a complete run."""
        if self.missing or not self.scores:
            return None
        return sum(score.value for score in self.scores) / len(self.scores)

    @property
    def reproduce_commands(self) -> list[str]:
        """Each distinct command once: benchmarks run in one lm-eval call share theirs."""
        return list(dict.fromkeys(s.reproduce for s in self.scores if s.reproduce))

    def score(self, benchmark: str) -> BenchmarkScore | None:
        return next((s for s in self.scores if s.benchmark == benchmark), None)

    @property
    def judge_usage(self) -> Any:
        """Judged suites: what the judge cost on this run (app.runs.schemas.JudgeUsageOut), else None."""
        from app.runs.judge_usage import total

        return total(score.provenance for score in self.scores)


@dataclass(frozen=True)
class FineTuneOrigin:
    job_id: int
    status: str


@dataclass(frozen=True)
class Lineage:
    base_model: str | None  # the reference delta or adapter weights apply to
    base_model_id: int | None  # a model on this server with that reference: its page
    weight_type: str
    fine_tune: FineTuneOrigin | None


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def is_whole_number(text: str) -> bool:
    """Digits 0-9 only: str.isdigit() also accepts '²', which int() refuses."""
    return text.isascii() and text.isdigit()


def model_facts(session: Session, model_id: int) -> ModelOut:
    """The model's row as the API serves it (NotFound for an unknown id)."""
    if model_id > LARGEST_ID:
        raise NotFound(f"no model with id {model_id}")
    return model_out(session, get_model(session, model_id))


def fine_tune_origin(session: Session, model_id: int) -> FineTuneOrigin | None:
    """The fine-tune job that trained this model (its tuned_model_id), if one on this server did."""
    row = session.execute(
        select(FineTune.id, FineTune.status).where(FineTune.tuned_model_id == model_id).limit(1)
    ).first()
    return FineTuneOrigin(job_id=row.id, status=row.status) if row else None


def lineage(session: Session, model: ModelOut) -> Lineage:
    base_id = None
    if model.base_model:
        # The base's own weights first (original), then the oldest row with that reference.
        base_id = session.scalar(
            select(LlmModel.id)
            .where(LlmModel.reference == model.base_model, LlmModel.id != model.id)
            .order_by(case((LlmModel.weight_type == "original", 0), else_=1), LlmModel.id)
            .limit(1)
        )
    return Lineage(model.base_model, base_id, model.weight_type, fine_tune_origin(session, model.id))


def _spec_in(suite: Suite | None, benchmark: str) -> BenchmarkSpec | None:
    if suite is None:
        return None
    return next((spec for spec in suite.benchmarks if spec.name == benchmark), None)


def request_scores(session: Session, request_id: int, suite: Suite | None) -> list[BenchmarkScore]:
    """The request's primary score per benchmark, in the suite's order (benchmarks the suite no
    longer lists come last). A normalized score carries the raw metric of its own task row."""
    rows = list(session.scalars(select(Result).where(Result.request_id == request_id)))
    by_key = {(row.benchmark, row.task, row.metric): row for row in rows}
    order = {spec.name: index for index, spec in enumerate(suite.benchmarks if suite else ())}
    scores = []
    for row in rows:
        if not row.is_primary:
            continue
        spec = _spec_in(suite, row.benchmark)
        raw_row = by_key.get((row.benchmark, row.task, spec.primary_metric)) if spec else None
        scores.append(
            BenchmarkScore(
                benchmark=row.benchmark,
                display_en=spec.display_en if spec else row.benchmark,
                display_ko=spec.display_ko if spec else row.benchmark,
                metric=row.metric,
                value=row.value,
                stderr=row.stderr,
                n=row.n,
                raw=raw_row.value if spec and spec.normalized and raw_row is not None else None,
                normalized=bool(spec and spec.normalized),
                private=bool(spec and spec.private),
                provenance=dict(row.provenance or {}),
            )
        )
    return sorted(scores, key=lambda s: (order.get(s.benchmark, len(order)), s.benchmark))


def latest_results(session: Session, model_id: int, private_dir: Path | None) -> list[SuiteResult]:
    """Per suite and data board, the model's latest finished request and its scores; suites in
    the catalog's order, real data before sample data. Real-data and sample-data runs are kept
    apart, as on the board: they are never comparable."""
    suites = all_suites(private_dir)
    latest: dict[tuple[str, str], EvalRequest] = {}
    for request in session.scalars(
        select(EvalRequest)
        .where(EvalRequest.model_id == model_id, EvalRequest.status == RequestStatus.FINISHED)
        .order_by(EvalRequest.id.desc())
    ):
        latest.setdefault((request.suite, board_of(request.data_source)), request)
    suite_order = {name: index for index, name in enumerate(suites)}
    placed = {(standing.suite, standing.board): standing for standing in standings(session, model_id)}
    results = []
    for (suite_name, board), request in sorted(
        latest.items(),
        key=lambda item: (
            suite_order.get(item[0][0], len(suite_order)),
            item[0][0],
            DATA_BOARDS.index(item[0][1]),
        ),
    ):
        suite = suites.get(suite_name)
        scores = request_scores(session, request.id, suite)
        have = {score.benchmark for score in scores}
        results.append(
            SuiteResult(
                suite=suite_name,
                title_en=suite.title_en if suite else suite_name,
                title_ko=suite.title_ko if suite else suite_name,
                board=board,
                data_source=request.data_source,
                request_id=request.id,
                finished_at=request.finished_at,
                scores=scores,
                missing=[spec.name for spec in suite.benchmarks if spec.name not in have] if suite else [],
                standing=placed.get((suite_name, board)),
            )
        )
    return results


def scores_csv(session: Session, model_id: int, private_dir: Path | None) -> str:
    """The model's latest scores, one row per (suite, data board, benchmark), values on 0..1."""
    model = model_facts(session, model_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["model_id", "model", "reference", "revision", "precision", "suite", "board", "data_source",
         "request_id", "benchmark", "metric", "value", "stderr", "n", "raw", "finished_at"]
    )  # fmt: skip
    for result in latest_results(session, model_id, private_dir):
        for score in result.scores:
            writer.writerow(
                [
                    model.id,
                    spreadsheet_safe(model.name),
                    spreadsheet_safe(model.reference),
                    spreadsheet_safe(model.revision),
                    model.precision,
                    result.suite,
                    result.board,
                    result.data_source or "",
                    result.request_id,
                    score.benchmark,
                    score.metric,
                    repr(score.value),
                    "" if score.stderr is None else repr(score.stderr),
                    "" if score.n is None else score.n,
                    "" if score.raw is None else repr(score.raw),
                    result.finished_at.isoformat() if result.finished_at else "",
                ]
            )
    return out.getvalue()
