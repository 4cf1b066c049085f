"""Serving what a finished request left on disk: lm-eval's results JSON and per-sample logs.

The worker records the attempt folder on the request when it commits the results, so only the
files of the attempt whose numbers are in the database are ever served.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound
from app.tables import EvalRequest, RequestStatus

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"


def _finished_folder(session: Session, request_id: int) -> Path:
    request = session.get(EvalRequest, request_id)
    if request is None:
        raise NotFound(f"no evaluation request with id {request_id}")
    if request.status != RequestStatus.FINISHED or not request.artifacts_path:
        raise Conflict(f"request {request_id} is {request.status}; results exist once it is FINISHED")
    folder = Path(request.artifacts_path)
    if not folder.is_dir():
        raise NotFound(f"the artifacts of request {request_id} are no longer on this server")
    return folder


def results_json(session: Session, request_id: int) -> dict[str, Any]:
    path = _finished_folder(session, request_id) / RESULTS_FILE
    if not path.is_file():
        raise NotFound(f"request {request_id} has no {RESULTS_FILE}")
    return dict(json.loads(path.read_text("utf-8")))


def samples_page(
    session: Session, request_id: int, *, benchmark: str | None, offset: int, limit: int
) -> dict[str, Any]:
    """One page of per-sample records, optionally of one benchmark, in the order lm-eval logged them."""
    path = _finished_folder(session, request_id) / SAMPLES_FILE
    if not path.is_file():
        raise NotFound(f"request {request_id} has no per-sample log")
    items: list[dict[str, Any]] = []
    total = 0
    benchmarks: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            benchmarks.add(record.get("benchmark", ""))
            if benchmark is not None and record.get("benchmark") != benchmark:
                continue
            if offset <= total < offset + limit:
                items.append(record)
            total += 1
    if benchmark is not None and benchmark not in benchmarks:
        raise InvalidInput(
            f"request {request_id} has no benchmark {benchmark!r}; it has {', '.join(sorted(benchmarks))}",
            field="benchmark",
        )
    return {
        "request_id": request_id,
        "benchmark": benchmark,
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": items,
    }
