"""POST/GET /api/v1/finetunes, and cancel.

POST takes multipart form fields (a `dataset` file plus the settings as fields, as the page and
`curl -F` send them) or a JSON body with a hub `dataset_id`. The upload limit is checked from
Content-Length before the body is read, then again on the bytes, so an oversize upload is a 413
without the server buffering it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.auth.policy import anonymous, member, owner
from app.auth.principal import Principal
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.errors import InvalidInput, PayloadTooLarge
from app.finetune import service
from app.finetune.schemas import FinetuneOut

router = APIRouter(prefix="/api/v1/finetunes", tags=["finetunes"])
FORM_OVERHEAD = 64_000  # multipart boundaries and the settings fields around the file
LIST_FIELDS = ("suites", "target_modules")


def _too_large(settings: Settings) -> PayloadTooLarge:
    limit = settings.finetune_max_upload_bytes
    return PayloadTooLarge(
        f"the dataset is larger than this server's limit of {limit:,} bytes "
        "(EVALBOARD_FINETUNE_MAX_UPLOAD_BYTES); upload fewer examples",
        field="dataset",
    )


def _form_fields(form: Any) -> dict[str, Any]:
    """Form values -> FinetuneIn input: empty fields are absent, list fields may repeat or be
    comma-separated ("smoke,kobench")."""
    fields: dict[str, Any] = {}
    for key in {k for k in form if k != "dataset"}:
        values = [v for v in form.getlist(key) if isinstance(v, str) and v.strip()]
        if not values:
            continue
        if key in LIST_FIELDS:
            fields[key] = [part.strip() for v in values for part in v.split(",") if part.strip()]
        else:
            fields[key] = values[-1]
    return fields


@router.post(
    "", status_code=201, response_model=FinetuneOut, responses={401: {}, 409: {}, 413: {}, 422: {}, 429: {}}
)
async def create_finetune(
    request: Request,
    caller: Principal = Depends(member),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> FinetuneOut:
    """Queue a LoRA fine-tune of a base model; its suites are evaluated when training ends."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.finetune_max_upload_bytes + FORM_OVERHEAD:
        raise _too_large(settings)
    upload: bytes | None = None
    filename: str | None = None
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            fields = json.loads(await request.body())
        except ValueError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}") from None
        if not isinstance(fields, dict):
            raise InvalidInput("the body must be a JSON object of fine-tune settings")
    else:
        form = await request.form(max_files=1, max_fields=100)
        fields = _form_fields(form)
        dataset = form.get("dataset")
        if isinstance(dataset, UploadFile):
            upload = await dataset.read(settings.finetune_max_upload_bytes + 1)
            if len(upload) > settings.finetune_max_upload_bytes:
                raise _too_large(settings)
            filename = dataset.filename
    body = service.parse_body(fields)
    # Parsing the upload and the database work are blocking: off the event loop.
    return await run_in_threadpool(service.create, session, settings, body, upload, filename, caller)


@router.get("", dependencies=[Depends(anonymous)], response_model=list[FinetuneOut])
def list_finetunes(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    session: Session = SESSION,
) -> list[FinetuneOut]:
    return service.list_finetunes(session, limit=limit, offset=offset)


@router.get(
    "/{finetune_id}", dependencies=[Depends(anonymous)], response_model=FinetuneOut, responses={404: {}}
)
def get_finetune(finetune_id: int, session: Session = SESSION) -> FinetuneOut:
    """Status, step, loss history, ETA, contamination report and the tuned model's evaluations."""
    return service.get(session, finetune_id)


@router.post(
    "/{finetune_id}/cancel", response_model=FinetuneOut, responses={401: {}, 403: {}, 404: {}, 409: {}}
)
def cancel_finetune(
    finetune_id: int,
    caller: Principal = Depends(owner),
    session: Session = SESSION,
) -> FinetuneOut:
    """Stop a queued or training fine-tune (its submitter or an admin)."""
    return service.cancel(session, finetune_id, caller)


@router.post(
    "/{finetune_id}/requeue", response_model=FinetuneOut, responses={401: {}, 403: {}, 404: {}, 409: {}}
)
def requeue_finetune(
    finetune_id: int,
    caller: Principal = Depends(owner),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> FinetuneOut:
    """Train a failed or cancelled fine-tune again (its submitter or an admin); the earlier end stays in
    the audit log."""
    return service.requeue(session, finetune_id, caller, settings.job_max_attempts)
