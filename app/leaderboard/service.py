"""The ranked board: each model's latest finished request on a suite, averaged over its
benchmarks' primary metrics. A model missing a benchmark has no average and ranks last, so a
partial run can never outrank a complete one.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.leaderboard.schemas import BenchmarkColumn, LeaderboardPage, LeaderboardRow, Score
from app.tables import EvalRequest, LlmModel, RequestStatus, Result
from benchmarks.catalog import get_suite


def leaderboard(session: Session, suite_name: str, *, limit: int = 50, offset: int = 0) -> LeaderboardPage:
    try:
        suite = get_suite(suite_name)
    except KeyError as exc:
        raise InvalidInput(exc.args[0], field="suite") from None
    latest = (
        select(func.max(EvalRequest.id).label("request_id"))
        .where(EvalRequest.suite == suite.name, EvalRequest.status == RequestStatus.FINISHED)
        .group_by(EvalRequest.model_id)
        .subquery()
    )
    pairs = session.execute(
        select(EvalRequest, LlmModel)
        .join(latest, latest.c.request_id == EvalRequest.id)
        .join(LlmModel, LlmModel.id == EvalRequest.model_id)
    ).all()
    request_ids = [request.id for request, _ in pairs]
    scores: dict[int, dict[str, Score]] = {rid: {} for rid in request_ids}
    if request_ids:
        for result in session.scalars(
            select(Result).where(Result.request_id.in_(request_ids), Result.is_primary.is_(True))
        ):
            scores[result.request_id][result.benchmark] = Score(
                value=result.value, stderr=result.stderr, n=result.n, metric=result.metric
            )
    names = [spec.name for spec in suite.benchmarks]
    rows: list[LeaderboardRow] = []
    for request, model in pairs:
        model_scores = scores[request.id]
        complete = all(name in model_scores for name in names)
        average = sum(model_scores[n].value for n in names) / len(names) if complete else None
        rows.append(
            LeaderboardRow(
                rank=0,
                model_id=model.id,
                request_id=request.id,
                model=model.name,
                reference=model.reference,
                model_type=model.model_type,
                precision=model.precision,
                weight_type=model.weight_type,
                params_b=model.params_b,
                licence=model.licence,
                average=average,
                scores=model_scores,
                submitted_at=model.submitted_at,
                evaluated_at=request.finished_at,
            )
        )
    rows.sort(key=lambda row: (row.average is None, -(row.average or 0.0), row.model_id))
    for position, row in enumerate(rows, start=1):
        row.rank = position
    return LeaderboardPage(
        suite=suite.name,
        total=len(rows),
        limit=limit,
        offset=offset,
        benchmarks=[
            BenchmarkColumn(
                name=s.name, display_en=s.display_en, display_ko=s.display_ko, metric=s.primary_metric
            )
            for s in suite.benchmarks
        ],
        rows=rows[offset : offset + limit],
    )
