"""Models with finished results, written the way a worker writes them (runs.mark_finished), so the
board's index is built by the real code path. For board, export and browser tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, LlmModel, RequestStatus

SMOKE_METRICS = {"mmlu_en_mini": "acc", "kmmlu_ko_mini": "acc", "short_answer": "exact_match"}


@dataclass
class SeedModel:
    name: str
    scores: dict[str, float]
    model_type: str = "pretrained"
    weight_type: str = "original"
    precision: str = "bfloat16"
    params_b: float | None = 1.0
    licence: str | None = "apache-2.0"
    flags: list[str] = field(default_factory=list)
    data_source: str | None = "hub"
    suite: str = "smoke"
    stderr: float = 0.01
    submitted_at: datetime | None = None
    # Per-item scores per benchmark (ids t_BENCHMARK:0..n-1), stored with the results; None: none.
    items: dict[str, list[float]] | None = None


def seed(url: str, models: list[SeedModel], metrics: dict[str, str] | None = None) -> list[int]:
    """Returns the model ids, in the order given."""
    metrics = metrics or SMOKE_METRICS
    ids = []
    for spec in models:
        with session_scope(url) as session:
            model = LlmModel(
                reference=f"org/{spec.name}",
                source="hub",
                name=spec.name,
                precision=spec.precision,
                weight_type=spec.weight_type,
                base_model="org/base" if spec.weight_type == "adapter" else None,
                model_type=spec.model_type,
                params_b=spec.params_b,
                licence=spec.licence,
                flags=spec.flags,
                **({"submitted_at": spec.submitted_at} if spec.submitted_at else {}),
            )
            session.add(model)
            session.flush()
            request = EvalRequest(model_id=model.id, suite=spec.suite, status=RequestStatus.RUNNING)
            session.add(request)
            session.flush()
            rows = [
                {
                    "benchmark": benchmark,
                    "task": f"t_{benchmark}",
                    "metric": metrics[benchmark],
                    "value": value,
                    "stderr": spec.stderr,
                    "n": 24,
                    "is_primary": True,
                    "provenance": {},
                }
                for benchmark, value in spec.scores.items()
            ]
            item_scores = {
                benchmark: {"ids": [f"t_{benchmark}:{i}" for i in range(len(scores))], "scores": scores}
                for benchmark, scores in (spec.items or {}).items()
            }
            runs.mark_finished(
                session, request.id, rows, "/tmp", "", data_source=spec.data_source, item_scores=item_scores
            )
            ids.append(model.id)
    return ids
