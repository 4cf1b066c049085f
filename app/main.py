"""create_app(): routers, error handlers, templates. Imports no torch/transformers/lm_eval."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from app import __version__
from app.admin.router import router as admin_router
from app.auth.policy import anonymous
from app.auth.rate_limit import RateLimits
from app.auth.router import router as auth_router
from app.config import Settings, get_settings
from app.db import engine_for
from app.errors import AppError, Forbidden, Unauthorized, describe_validation_errors
from app.finetune.router import FORM_OVERHEAD
from app.finetune.router import router as finetune_router
from app.hardening import BodyLimit, SecurityHeaders
from app.judging.router import FORM_OVERHEAD as JUDGE_FORM_OVERHEAD
from app.judging.router import JUDGE_PATH
from app.judging.router import router as judge_router
from app.leaderboard.cache import ViewCache
from app.leaderboard.memo import CHART_MEMO_ITEMS, BoardMemo
from app.leaderboard.router import router as leaderboard_router
from app.runs.router import queue_router
from app.runs.router import router as runs_router
from app.scoring.router import router as scoring_router
from app.scoring.service import ScoringPool
from app.submissions.router import router as submissions_router
from app.web.admin_pages import router as admin_pages_router
from app.web.finetune_pages import router as finetune_pages_router
from app.web.pages import router as pages_router
from app.web.router import router as web_router
from app.web.signin import forbidden_page
from app.web.signin import router as signin_router

FINETUNE_UPLOAD_PATH = "/api/v1/finetunes"


def body_limit(settings: Settings) -> Callable[[str], int]:
    """The upload route checks a declared length itself (its 413 names the dataset setting); the
    middleware's looser bound there stops chunked uploads that declare none."""
    upload_limit = settings.finetune_max_upload_bytes + 2 * FORM_OVERHEAD
    judge_limit = max(settings.max_body_bytes, settings.judge_file_max_bytes + 2 * JUDGE_FORM_OVERHEAD)

    def limit_for(path: str) -> int:
        if path == JUDGE_PATH:
            return judge_limit
        return upload_limit if path == FINETUNE_UPLOAD_PATH else settings.max_body_bytes

    return limit_for


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(
    settings: Settings | None = None, companions: Sequence[Callable[[], AbstractContextManager[object]]] = ()
) -> FastAPI:
    """companions: context managers held for the app's lifetime (serve's local worker). They exit in
    the lifespan shutdown, which uvicorn runs before it re-raises SIGTERM, unlike a `finally`."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            for companion in companions:
                stack.enter_context(companion())
            stack.callback(app.state.scoring_pool.close)
            yield

    app = FastAPI(
        lifespan=lifespan,
        title="evalboard",
        version=__version__,
        description="LLM evaluation harness and leaderboard for Korean and English models.",
    )
    app.state.settings = settings
    app.state.view_cache = ViewCache() if settings.view_cache else None
    app.state.board_memo = BoardMemo()
    app.state.chart_memo = BoardMemo(max_items=CHART_MEMO_ITEMS)  # drawn charts: ~40 KB each
    app.state.scoring_pool = ScoringPool()
    app.state.rate_limits = RateLimits(settings)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if isinstance(exc, Unauthorized) and _wants_page(request):
            # Back to the page after signing in; a form's POST target is no page to return to.
            after = f"?next={quote(request.url.path)}" if request.method == "GET" else ""
            return RedirectResponse(f"/signin{after}", status_code=303)
        if isinstance(exc, Forbidden) and _wants_page(request):
            return forbidden_page(request, exc.message)
        return JSONResponse(
            {"detail": exc.message, "field": exc.field}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            {
                "detail": describe_validation_errors(errors),
                "errors": [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg"))} for e in errors],
            },
            status_code=422,
        )

    @app.get("/healthz", tags=["health"], dependencies=[Depends(anonymous)])
    def healthz() -> dict[str, str]:
        with engine_for(settings.resolved_database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.include_router(submissions_router)
    app.include_router(runs_router)
    app.include_router(queue_router)
    app.include_router(leaderboard_router)
    app.include_router(scoring_router)
    app.include_router(finetune_router)
    app.include_router(judge_router)
    app.include_router(web_router)
    app.include_router(pages_router)
    app.include_router(finetune_pages_router)
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(signin_router)
    app.include_router(admin_pages_router)
    # Outermost last: headers go on every response, the 413 included.
    app.add_middleware(
        BodyLimit,
        limit_for=body_limit(settings),
        checks_own_length=frozenset({FINETUNE_UPLOAD_PATH, JUDGE_PATH}),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    app.add_middleware(SecurityHeaders)
    return app
