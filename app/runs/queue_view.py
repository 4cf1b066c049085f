"""The evaluation queue as the submit page shows it: pending (with its place in line), running
(progress, current task, an estimated time left), and the latest finished and failed requests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.db import utcnow
from app.runs.schemas import RequestOut
from app.runs.service import list_requests

QUEUE_STATUSES = ("RUNNING", "PENDING", "FAILED", "FINISHED")
# Below this much progress the rate is mostly model loading: an estimate would be noise.
ETA_MIN_PROGRESS = 0.02
LOG_TAIL_CHARS = 4000


class QueueItem(RequestOut):
    position: int | None = Field(None, description="PENDING: 1 is next in line")
    eta_seconds: float | None = Field(None, description="RUNNING: time left at the rate so far")


class QueueSnapshot(BaseModel):
    at: datetime
    running: list[QueueItem]
    pending: list[QueueItem]
    failed: list[QueueItem]
    finished: list[QueueItem]


def eta_seconds(progress: float, started_at: datetime | None, now: datetime) -> float | None:
    if started_at is None or progress < ETA_MIN_PROGRESS or progress >= 1.0:
        return None
    elapsed = max((now - started_at).total_seconds(), 0.0)
    return elapsed * (1.0 - progress) / progress


def queue_snapshot(session: Session, limit: int = 20) -> QueueSnapshot:
    now = utcnow()
    lists: dict[str, list[QueueItem]] = {}
    for status in QUEUE_STATUSES:
        # Pending oldest first: the order the queue serves them (equal priorities).
        requests = list_requests(session, status=status, limit=limit, oldest_first=status == "PENDING")
        items = []
        for position, request in enumerate(requests, start=1):
            item = QueueItem(**request.model_dump(exclude={"results"}))
            if item.log_tail and len(item.log_tail) > LOG_TAIL_CHARS:
                item.log_tail = item.log_tail[-LOG_TAIL_CHARS:]
            if status == "PENDING":
                item.position = position
            if status == "RUNNING":
                item.eta_seconds = eta_seconds(request.progress, request.started_at, now)
            items.append(item)
        lists[status.lower()] = items
    return QueueSnapshot(at=now, **lists)
