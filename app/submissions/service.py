"""Submitting a model: validate, then Model + EvalRequest + Job rows in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.principal import Principal
from app.auth.quota import check_weekly_quota
from app.config import Settings
from app.errors import Conflict, InvalidInput, NotFound
from app.queue import jobs
from app.submissions.references import ResolvedModel, looks_like_path, resolve
from app.submissions.schemas import ModelOut, SubmissionIn, SubmissionOut
from app.tables import ACTIVE_REQUEST_STATUSES, EvalRequest, LlmModel
from benchmarks.catalog import all_suites, get_suite, unknown_suites_message
from benchmarks.private import PRIVATE_SUITE
from benchmarks.references import parse_reference

LARGEST_MODEL_ID = 2**31 - 1  # model.id is a 32-bit integer column


def check_suites(names: list[str], private_dir: Path | None = None) -> list[str]:
    """private_dir: where registered private benchmarks live (their suite is known only then)."""
    known = all_suites(private_dir)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(unknown_suites_message(unknown, known), field="suites")
    return list(dict.fromkeys(names))  # keep order, drop repeats


def check_private_suites(suites: list[str], resolved: ResolvedModel, settings: Settings) -> None:
    """Held-out items go only where they cannot be copied: weights the workers run themselves, or an
    endpoint the operator trusts (EVALBOARD_OPENAI_TRUSTED_BASE_URLS)."""
    if PRIVATE_SUITE not in suites or resolved.source != "openai":
        return
    _, base_url = parse_reference(resolved.reference)  # model names may hold "@" themselves
    trusted = settings.openai_trusted_base_urls
    if not any(base_url.rstrip("/") == url.rstrip("/") for url in trusted):
        others = [name for name in suites if name != PRIVATE_SUITE] or ["smoke"]
        raise InvalidInput(
            f"the {PRIVATE_SUITE!r} suite sends held-out items only to models whose weights run on this "
            "server's workers or to endpoints an administrator trusts; this endpoint is not trusted: "
            f"drop {PRIVATE_SUITE!r} (e.g. suites {others}) or ask an administrator to add it to "
            "EVALBOARD_OPENAI_TRUSTED_BASE_URLS",
            field="suites",
        )


def _endpoint_tokenizer(
    body: SubmissionIn, source: str, suites: list[str], settings: Settings, caller: Principal | None
) -> str | None:
    """An endpoint's log-likelihood benchmarks are scored with its tokenizer: without one they
    would fail on the worker, so the submission is refused now with what to add."""
    if source != "openai":
        return None
    if body.tokenizer:
        if body.tokenizer.startswith("bundled:") or looks_like_path(body.tokenizer):
            # A clear 422 for a missing folder or name (members: only under the allowed roots), and
            # the folder kept as resolved, so the worker loads the one that was checked.
            return resolve(body.tokenizer, None, settings, caller).reference
        return body.tokenizer
    needs = [
        name
        for name in suites
        for spec in get_suite(name, private_dir=settings.resolved_private_dir).benchmarks
        if spec.request_type == "loglikelihood"
    ]
    if needs:
        raise InvalidInput(
            f"suite {needs[0]!r} scores answers by log-likelihood, which needs the served model's "
            "tokenizer: set tokenizer (a hub id, a folder on the server or bundled:NAME)",
            field="tokenizer",
        )
    return None


def submit(
    session: Session, settings: Settings, body: SubmissionIn, caller: Principal | None
) -> SubmissionOut:
    """caller: the signed-in submitter, or None for the operator at the server's command line (who may
    name any local folder and is under no quota)."""
    suites = check_suites(body.suites, settings.resolved_private_dir)
    if caller is not None:
        check_weekly_quota(session, settings, caller, len(suites))
    resolved = resolve(body.model, body.revision, settings, caller)
    if resolved.is_adapter and body.weight_type != "adapter":
        raise InvalidInput(
            "this folder holds an adapter (adapter_config.json): set weight_type to adapter",
            field="weight_type",
        )
    if body.weight_type == "adapter" and not resolved.is_adapter and resolved.source == "local":
        raise InvalidInput(
            "weight_type is adapter but the folder has no adapter_config.json", field="weight_type"
        )
    base_reference = None
    if body.base_model:
        try:
            base_reference = resolve(body.base_model, None, settings, caller).reference
        except InvalidInput as exc:
            raise InvalidInput(f"base_model: {exc.message}", field="base_model") from exc
    if resolved.params_b and resolved.params_b > settings.max_model_params_b:
        raise InvalidInput(
            f"{resolved.params_b:g}B parameters is over this server's limit of "
            f"{settings.max_model_params_b:g}B",
            field="model",
        )

    check_private_suites(suites, resolved, settings)
    tokenizer = _endpoint_tokenizer(body, resolved.source, suites, settings, caller)
    model_type = body.model_type or resolved.model_type or "pretrained"
    use_chat_template = (
        body.use_chat_template
        if body.use_chat_template is not None
        else resolved.chat_template_default(model_type)
    )

    model = session.scalar(
        select(LlmModel).where(
            LlmModel.reference == resolved.reference,
            LlmModel.revision == resolved.revision,
            LlmModel.precision == body.precision,
            LlmModel.weight_type == body.weight_type,
            LlmModel.base_model.is_(None)
            if base_reference is None
            else LlmModel.base_model == base_reference,
        )
    )
    if model is None:
        model = LlmModel(
            reference=resolved.reference,
            source=resolved.source,
            name=resolved.name,
            revision=resolved.revision,
            commit_sha=resolved.commit_sha,
            precision=body.precision,
            weight_type=body.weight_type,
            base_model=base_reference,
            model_type=model_type,
            params_b=resolved.params_b,
            licence=body.licence or resolved.licence,
            use_chat_template=use_chat_template,
            tokenizer=tokenizer,
            flags=[],
            submitted_by=caller.user_id if caller else None,
        )
        session.add(model)
        session.flush()
    else:
        # The same revision may point at new weights now (a hub push, an edited folder): the row
        # follows them; results keep the commit they were measured on in their provenance.
        model.commit_sha = resolved.commit_sha or model.commit_sha
        model.tokenizer = tokenizer or model.tokenizer
        active = session.scalars(
            select(EvalRequest.suite).where(
                EvalRequest.model_id == model.id,
                EvalRequest.suite.in_(suites),
                EvalRequest.status.in_(ACTIVE_REQUEST_STATUSES),
            )
        ).all()
        if active:
            raise Conflict(
                f"{resolved.reference} ({resolved.revision}, {body.precision}) is already queued or running "
                f"on {', '.join(sorted(active))}; wait for it to finish or cancel it first"
            )

    request_ids: list[int] = []
    job_ids: list[int] = []
    try:
        with session.begin_nested():  # the partial unique index catches a concurrent duplicate
            for suite in suites:
                request = EvalRequest(
                    model_id=model.id, suite=suite, submitted_by=caller.user_id if caller else None
                )
                session.add(request)
                session.flush()
                job = jobs.enqueue(
                    session, kind="eval", request_id=request.id, max_attempts=settings.job_max_attempts
                )
                request_ids.append(request.id)
                job_ids.append(job.id)
    except IntegrityError as exc:
        raise Conflict(f"{resolved.reference} is already queued on one of {', '.join(suites)}") from exc
    return SubmissionOut(model_id=model.id, request_ids=request_ids, job_ids=job_ids)


def get_model(session: Session, model_id: int) -> LlmModel:
    # A larger number names no model (model.id is 32-bit; PostgreSQL would refuse to compare it).
    model = session.get(LlmModel, model_id) if 1 <= model_id <= LARGEST_MODEL_ID else None
    if model is None:
        raise NotFound(f"no model with id {model_id}")
    return model


def list_models(session: Session, *, limit: int, offset: int, include_hidden: bool = False) -> list[LlmModel]:
    """Newest first. Hidden models are left out unless include_hidden (administrators' lists): they
    are off the boards, and a list of models is how people find what to compare."""
    query = select(LlmModel).order_by(LlmModel.id.desc()).limit(limit).offset(offset)
    if not include_hidden:
        query = query.where(LlmModel.hidden.is_(False))
    return list(session.scalars(query))


def models_out(session: Session, models: list[LlmModel]) -> list[ModelOut]:
    """The rows as the API serves them, submitters' names read in one query."""
    names = audit.user_names(session, {model.submitted_by for model in models})
    return [ModelOut.of(model, names) for model in models]


def model_out(session: Session, model: LlmModel) -> ModelOut:
    return models_out(session, [model])[0]
