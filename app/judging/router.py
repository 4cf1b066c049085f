"""POST /api/v1/judge (a file of items for the server's judge -> 202 and a job id) and
GET /api/v1/judge/{judge_id} (the job's status and, once done, its results).

POST takes multipart form fields: `file` (JSON Lines, one item per line), `method` (pairwise |
single | geval), `lang` (ko | en) and, for single, an optional `korean_penalty` (true | false;
default: the server's setting). The file's size is checked from Content-Length before the body is
read, then again on the bytes.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.auth.policy import member, owner
from app.auth.principal import Principal
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.errors import InvalidInput, PayloadTooLarge
from app.judging import service
from app.judging.schemas import JudgeJobOut

router = APIRouter(prefix="/api/v1/judge", tags=["judge"])
JUDGE_PATH = "/api/v1/judge"
FORM_OVERHEAD = 16_000  # multipart boundaries and the few fields around the file
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _too_large(settings: Settings) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file is larger than this server's limit of {settings.judge_file_max_bytes:,} bytes "
        "(EVALBOARD_JUDGE_FILE_MAX_BYTES): split it into smaller files",
        field="file",
    )


def _text_field(form: object, name: str, required: bool = True) -> str | None:
    value = form.get(name)  # type: ignore[attr-defined]
    if isinstance(value, str) and value.strip():
        return value.strip()
    if required:
        raise InvalidInput(f"the form field {name!r} is missing", field=name)
    return None


FORM_SCHEMA = {  # the OpenAPI document's view of the form the handler reads itself
    "type": "object",
    "required": ["file", "method", "lang"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "JSON Lines, one item per line"},
        "method": {"type": "string", "enum": ["pairwise", "single", "geval"]},
        "lang": {"type": "string", "enum": ["ko", "en"]},
        "korean_penalty": {
            "type": "boolean",
            "description": "single: default EVALBOARD_JUDGE_KOREAN_PENALTY",
        },
    },
}


@router.post(
    "",
    status_code=202,
    response_model=JudgeJobOut,
    responses={401: {}, 413: {}, 422: {}, 429: {}},
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM_SCHEMA}}}
    },
)
async def create_judge_job(
    request: Request,
    caller: Principal = Depends(member),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> JudgeJobOut:
    """Grade a file of items with the server's judge: pairwise (instruction, output_a, output_b),
    single (question, answer, optional reference) or geval (source, summary). Queued as a job
    (202); poll `status_url` for its results. Counts against the weekly submission quota."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.judge_file_max_bytes + FORM_OVERHEAD:
        raise _too_large(settings)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(
            "send multipart/form-data: the items as the file field 'file' (JSON Lines) and the fields "
            "'method' and 'lang' (curl -F file=@items.jsonl -F method=pairwise -F lang=ko)",
            field="file",
        )
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "the items go in the file field 'file' (JSON Lines, one item per line)", field="file"
        )
    data = await upload.read(settings.judge_file_max_bytes + 1)
    if len(data) > settings.judge_file_max_bytes:
        raise _too_large(settings)
    method, lang = _text_field(form, "method"), _text_field(form, "lang")
    penalty_text = _text_field(form, "korean_penalty", required=False)
    if penalty_text is not None and penalty_text.lower() not in BOOLEANS:
        raise InvalidInput(f"korean_penalty is {penalty_text!r}: use true or false", field="korean_penalty")
    penalty = None if penalty_text is None else BOOLEANS[penalty_text.lower()]
    return await run_in_threadpool(
        service.create, session, settings, caller, data, upload.filename, str(method), str(lang), penalty
    )


@router.get("/{judge_id}", response_model=JudgeJobOut, responses={401: {}, 403: {}, 404: {}})
def get_judge_job(
    judge_id: int = Path(ge=1),
    caller: Principal = Depends(owner),
    session: Session = SESSION,
) -> JudgeJobOut:
    """A judge job's status and, once done, its results (its submitter or an administrator)."""
    return service.get(session, judge_id, caller)
