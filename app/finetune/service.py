"""Fine-tune jobs: validate, store the dataset, queue the job; read status; cancel.

The base model becomes an ordinary model row, queued on every requested suite it has no result or
run for yet: the board's change-against-base needs both sides measured the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.policy import ensure_may_act
from app.auth.principal import Principal
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound, describe_validation_errors
from app.finetune.dataset import DatasetError, parse_examples
from app.finetune.schemas import FinetuneIn, FinetuneOut
from app.queue import jobs
from app.submissions.references import resolve
from app.submissions.schemas import SubmissionIn
from app.submissions.service import check_suites, submit
from app.tables import (
    ACTIVE_FINETUNE_STATUSES,
    EvalRequest,
    FineTune,
    FineTuneStatus,
    LlmModel,
    RequestStatus,
)

DATASET_FILE = "dataset.jsonl"
COVERED = (RequestStatus.PENDING, RequestStatus.RUNNING, RequestStatus.FINISHED)


def parse_body(fields: dict[str, object]) -> FinetuneIn:
    """Form fields or a JSON body -> FinetuneIn, with pydantic's errors as one clear 422."""
    try:
        return FinetuneIn.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(exc.errors())) from None


def finetune_dir(settings: Settings, finetune_id: int) -> Path:
    return settings.resolved_artifacts_dir / "finetunes" / str(finetune_id)


def _base_model_id(
    session: Session, settings: Settings, body: FinetuneIn, suites: list[str], caller: Principal | None
) -> int:
    resolved = resolve(body.base_model, body.revision, settings, caller)  # 422 when it does not resolve
    if resolved.source == "openai":
        raise InvalidInput(
            "an openai: endpoint has no weights to tune; choose a local folder, hub id or bundled model",
            field="base_model",
        )
    if resolved.is_adapter:
        raise InvalidInput(
            "the base model is itself an adapter; tune its base model instead", field="base_model"
        )
    precision = "4bit" if body.quantization == "4bit" else body.precision
    existing = session.scalar(
        select(LlmModel).where(
            LlmModel.reference == resolved.reference,
            LlmModel.revision == resolved.revision,
            LlmModel.precision == precision,
            LlmModel.weight_type == "original",
        )
    )
    covered: set[str] = set()
    if existing is not None:
        covered = set(
            session.scalars(
                select(EvalRequest.suite).where(
                    EvalRequest.model_id == existing.id, EvalRequest.status.in_(COVERED)
                )
            )
        )
    missing = [suite for suite in suites if suite not in covered]
    if existing is not None and not missing:
        return existing.id
    out = submit(
        session,
        settings,
        SubmissionIn(
            model=body.base_model,
            revision=body.revision,
            precision=precision,
            suites=missing or suites,
        ),
        caller,
    )
    return out.model_id


def create(
    session: Session,
    settings: Settings,
    body: FinetuneIn,
    upload: bytes | None,
    filename: str | None,
    caller: Principal | None,
) -> FinetuneOut:
    """caller: the signed-in member, or None for the server's command line."""
    suites = check_suites(body.suites, settings.resolved_private_dir)
    if body.max_steps is not None and body.max_steps > settings.finetune_max_steps:
        raise InvalidInput(
            f"max_steps {body.max_steps} is over this server's limit of {settings.finetune_max_steps} "
            "(EVALBOARD_FINETUNE_MAX_STEPS)",
            field="max_steps",
        )
    if (upload is None) == (body.dataset_id is None):
        raise InvalidInput(
            "give the training data either as an uploaded file (dataset) or as a hub dataset_id, not both",
            field="dataset",
        )
    examples = None
    if upload is not None:
        if len(upload) > settings.finetune_max_upload_bytes:  # the router checks first; kept as a guard
            raise InvalidInput("dataset upload too large", field="dataset")
        try:
            examples = len(parse_examples(upload, max_examples=settings.finetune_max_examples))
        except DatasetError as exc:
            raise InvalidInput(f"dataset: {exc}", field="dataset") from None
    base_id = _base_model_id(session, settings, body, suites, caller)
    finetune = FineTune(
        base_model_id=base_id,
        base_reference=body.base_model,
        dataset_name=(filename or "upload.jsonl") if upload is not None else f"hub:{body.dataset_id}",
        dataset_sha256=hashlib.sha256(upload).hexdigest() if upload is not None else None,
        examples=examples,
        params={
            **body.training_params().model_dump(),
            "precision": body.precision,
            "revision": body.revision,
        },
        suites=suites,
        status=FineTuneStatus.QUEUED,
        losses=[],
        submitted_by=caller.user_id if caller else None,
    )
    session.add(finetune)
    session.flush()
    if upload is not None:
        folder = finetune_dir(settings, finetune.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DATASET_FILE).write_bytes(upload)  # as uploaded: reported line numbers match it
        finetune.dataset_path = str(folder / DATASET_FILE)
    job = jobs.enqueue(
        session,
        kind="finetune",
        request_id=None,
        payload={"finetune_id": finetune.id},
        max_attempts=settings.job_max_attempts,
    )
    finetune.job_id = job.id
    session.flush()
    return to_out(session, finetune)


def _get(session: Session, finetune_id: int) -> FineTune:
    finetune = session.get(FineTune, finetune_id) if finetune_id < 2**31 else None
    if finetune is None:
        raise NotFound(f"no fine-tune with id {finetune_id}")
    return finetune


def to_out(session: Session, finetune: FineTune) -> FinetuneOut:
    out = FinetuneOut.model_validate(finetune)
    if finetune.submitted_by is not None:
        out.submitted_by = audit.user_names(session, {finetune.submitted_by}).get(finetune.submitted_by)
    if finetune.tuned_model_id is not None:
        out.request_ids = list(
            session.scalars(
                select(EvalRequest.id)
                .where(EvalRequest.model_id == finetune.tuned_model_id)
                .order_by(EvalRequest.id)
            )
        )
    latest: dict[str, int] = {}
    for request_id, suite in session.execute(
        select(EvalRequest.id, EvalRequest.suite)
        .where(EvalRequest.model_id == finetune.base_model_id, EvalRequest.suite.in_(finetune.suites))
        .order_by(EvalRequest.id)
    ):
        latest[suite] = request_id
    out.base_request_ids = sorted(latest.values())
    return out


def get(session: Session, finetune_id: int) -> FinetuneOut:
    return to_out(session, _get(session, finetune_id))


def list_finetunes(session: Session, *, limit: int, offset: int) -> list[FinetuneOut]:
    rows = session.scalars(select(FineTune).order_by(FineTune.id.desc()).limit(limit).offset(offset))
    return [to_out(session, row) for row in rows]


def cancel(session: Session, finetune_id: int, caller: Principal) -> FinetuneOut:
    """Queued: it never starts. Training: the worker sees the cancelled job at its next heartbeat
    and stops the process, which saves the adapter it has so far. Evaluating or done: 409."""
    finetune = _get(session, finetune_id)
    ensure_may_act(caller, finetune.submitted_by, f"fine-tune {finetune_id}")
    if finetune.status not in ACTIVE_FINETUNE_STATUSES:
        raise Conflict(
            f"fine-tune {finetune_id} is {finetune.status}; only queued or training ones can be cancelled"
        )
    if finetune.status == FineTuneStatus.EVALUATING:
        raise Conflict(
            f"fine-tune {finetune_id} has finished training and is being evaluated; "
            "cancel its evaluation requests instead"
        )
    if finetune.job_id is not None:
        jobs.cancel(session, finetune.job_id)
    before = {"status": finetune.status}
    finetune.status = FineTuneStatus.CANCELLED
    finetune.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        caller,
        "finetune.cancel",
        "finetune",
        finetune_id,
        before=before,
        after={"status": "cancelled"},
    )
    return to_out(session, finetune)


def requeue(session: Session, finetune_id: int, caller: Principal, max_attempts: int) -> FinetuneOut:
    """A FAILED or CANCELLED fine-tune trains again from its stored dataset, as a new job. One that
    already produced a tuned model is not retrained over it: start a new fine-tune instead."""
    finetune = _get(session, finetune_id)
    ensure_may_act(caller, finetune.submitted_by, f"fine-tune {finetune_id}")
    if finetune.status not in (FineTuneStatus.FAILED, FineTuneStatus.CANCELLED):
        raise Conflict(
            f"fine-tune {finetune_id} is {finetune.status}; only failed or cancelled ones can be requeued"
        )
    if finetune.tuned_model_id is not None:
        raise Conflict(
            f"fine-tune {finetune_id} already produced a tuned model (id {finetune.tuned_model_id}); "
            "start a new fine-tune instead of training over it"
        )
    before = {"status": finetune.status, "error": finetune.error, "attempts": finetune.attempts}
    finetune.status = FineTuneStatus.QUEUED
    finetune.error = None
    finetune.finished_at = None
    finetune.step = 0
    finetune.losses = []
    finetune.eta_seconds = None
    job = jobs.enqueue(
        session,
        kind="finetune",
        request_id=None,
        payload={"finetune_id": finetune.id},
        max_attempts=max_attempts,
    )
    finetune.job_id = job.id
    session.flush()
    audit.record(
        session,
        caller,
        "finetune.requeue",
        "finetune",
        finetune_id,
        before=before,
        after={"status": "queued"},
    )
    return to_out(session, finetune)
