"""HTML pages. They call the same services as the API; they never query the database directly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.policy import anonymous, member
from app.auth.principal import Principal
from app.auth.web_sessions import CSRF_FIELD, SESSION_COOKIE
from app.config import Settings
from app.db import read_scope
from app.deps import SESSION, get_settings_dep
from app.errors import AppError, InvalidInput, describe_validation_errors
from app.leaderboard.cache import ViewCache
from app.leaderboard.entries import board_version
from app.leaderboard.memo import BoundMemo
from app.leaderboard.query import KINDS, PRECISIONS, SIZE_PRESETS, BoardQuery, parse
from app.leaderboard.service import board_sizes, leaderboard, scatter_key, scatter_rows
from app.runs.queue_view import queue_snapshot
from app.submissions.schemas import SubmissionIn
from app.submissions.service import submit
from app.web.board_links import BoardLinks, hidden_columns
from app.web.charts import ScatterPoint, scatter
from app.web.cookies import delete_session_cookie, presignin_token, set_presignin_cookie
from app.web.formatting import register as register_board_helpers
from app.web.i18n import LANGUAGES, Translator, pick_language
from benchmarks.catalog import all_suites
from benchmarks.spec import Suite

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates"))
register_board_helpers(TEMPLATES.env)
router = APIRouter(include_in_schema=False)


LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
# Stands for the CSP nonce in cached pages (a nonce is url-safe base64, so it never holds a '#').
NONCE_MARK = b"#csp-nonce#"


def render_page(
    request: Request, settings: Settings, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Every page gets who is signed in (`principal`, None for a visitor), the token its forms and
    fetch calls must send (`csrf_token`) and the nonce its inline scripts need (`csp_nonce`)."""
    suites = all_suites(settings.resolved_private_dir)
    lang, asked = page_language(request)
    other = next(code for code in LANGUAGES if code != lang)
    switch_url = str(request.url.include_query_params(lang=other).remove_query_params("submitted"))
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None and principal.via == "session" and principal.csrf_token:
        csrf_token, new_csrf = principal.csrf_token, False
    else:
        csrf_token, new_csrf = presignin_token(request)
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "suites": suites,
            "lang": lang,
            "t": Translator(lang),
            "switch_url": switch_url,
            "principal": principal,
            "csrf_token": csrf_token,
            "csp_nonce": getattr(request.state, "csp_nonce", ""),
            **context,
        },
        status_code=status_code,
    )
    if new_csrf:
        set_presignin_cookie(response, settings, request, csrf_token)
    if principal is None and request.cookies.get(SESSION_COOKIE):
        # Signed out elsewhere, expired or disabled: forget the dead cookie, as browsers expect.
        delete_session_cookie(response, settings, request)
    if principal is not None:
        response.headers["Cache-Control"] = "private, no-store"  # a page that names its reader
    return with_language(response, lang, asked)


def page_language(request: Request) -> tuple[str, str | None]:
    """The page's language and the explicit ?lang= choice, if any."""
    asked = request.query_params.get("lang")
    return pick_language(asked, request.cookies.get("lang"), request.headers.get("accept-language")), asked


def with_language(response: HTMLResponse, lang: str, asked: str | None) -> HTMLResponse:
    if asked in LANGUAGES:  # an explicit choice is remembered
        response.set_cookie("lang", lang, max_age=LANGUAGE_COOKIE_SECONDS, samesite="lax")
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@router.get("/", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
async def board(request: Request, settings: Settings = Depends(get_settings_dep)) -> HTMLResponse:
    """Served from the app's view cache while the board is unchanged (app/leaderboard/cache.py)."""
    # Its database work and rendering in one thread pool call, as its own unit of work (see the
    # API's get_leaderboard): the session dependency and a sync route cost three hops.
    return await run_in_threadpool(_board_in_session, request, settings)


def _board_in_session(request: Request, settings: Settings) -> HTMLResponse:
    with read_scope(settings.resolved_database_url) as session:
        return _cached_board(request, session, settings)


def _cached_board(request: Request, session: Session, settings: Settings) -> HTMLResponse:
    lang, asked = page_language(request)
    suites = all_suites(settings.resolved_private_dir)
    cache: ViewCache | None = request.app.state.view_cache
    # Only a visitor's page is shared: a signed-in page names its reader and carries their CSRF token.
    if cache is None or request.state.principal is not None or request.cookies.get(SESSION_COOKIE):
        return _board(request, session, settings, suites)
    # The catalog is part of the key: registering a private benchmark changes tabs and columns.
    catalog = tuple((name, tuple(b.name for b in suite.benchmarks)) for name, suite in suites.items())
    key = ("page", str(request.url), lang, catalog)
    version = board_version(session)
    nonce = request.state.csp_nonce.encode()
    body = cache.get(version, key)
    if body is not None:  # the stored page's scripts get this response's nonce
        return with_language(HTMLResponse(body.replace(NONCE_MARK, nonce)), lang, asked)
    response = _board(request, session, settings, suites)
    stored = bytes(response.body)
    # A page that shows its reader's sign-in token (none does now) is theirs alone.
    token = str(getattr(response, "context", {}).get("csrf_token", "")).encode()
    if response.status_code == 200 and not (token and token in stored):
        cache.put(version, key, stored.replace(nonce, NONCE_MARK))
    return response


def _board(request: Request, session: Session, settings: Settings, suites: dict[str, Suite]) -> HTMLResponse:
    suite_name = request.query_params.get("suite") or "smoke"
    if suite_name not in suites:  # the template says so in the page's language
        return render_page(
            request, settings, "leaderboard.html", 404, page=None, error=None, unknown_suite=suite_name
        )
    suite = suites[suite_name]
    memo = BoundMemo(request.app.state.board_memo, session)  # one board version read per page
    sizes = board_sizes(session, suite, memo)
    try:
        query = parse(request.query_params, suite)
    except InvalidInput as exc:
        return render_page(
            request,
            settings,
            "leaderboard.html",
            422,
            page=None,
            error=exc.message,
            unknown_suite=None,
            suite=suite,
            sizes=sizes,
        )
    # With no real-data result yet (a fresh `make run` demo), the sample-data board is shown, under its
    # not-comparable banner, rather than an empty table; an explicit data= always wins.
    fell_back = "data" not in request.query_params and not sizes["hub"] and sizes["bundled"] > 0
    if fell_back:
        query.data = "bundled"
    page = leaderboard(session, query, suite, memo)
    hidden = hidden_columns(request.query_params.getlist("hide"), suite)
    charts = memo.alongside(request.app.state.chart_memo)
    chart = scatter_chart(session, query, suite, memo, charts, page_language(request)[0])
    links = BoardLinks(page.query, hidden, explicit_data=not fell_back)
    return render_page(
        request,
        settings,
        "leaderboard.html",
        page=page,
        error=None,
        unknown_suite=None,
        suite=suite,
        sizes=sizes,
        fell_back=fell_back,
        hidden=hidden,
        links=links,
        kinds=KINDS,
        precisions=PRECISIONS,
        size_presets=tuple(SIZE_PRESETS),
        scatter_chart=chart,
    )


def scatter_chart(
    session: Session, query: BoardQuery, suite: Suite, memo: BoundMemo, charts: BoundMemo, lang: str
) -> Markup:
    """The score-vs-size chart's SVG, drawn once per board version, filters and language and then
    kept: its 300 marks were a quarter of a page's rendering, and they change only with the board (or
    the filters), never with the sort or the page. `memo` keeps the chart's rows, `charts` (the
    app's smaller chart store) the drawings."""

    def draw() -> Markup:
        t = Translator(lang)
        points = [
            ScatterPoint(x=params, y=score, label=name, href=f"/models/{model_id}")
            for model_id, name, params, score in scatter_rows(session, query, suite, memo=memo)
        ]
        x_label, y_label, empty = t("board.scatter_x"), t("board.average"), t("board.scatter_empty")
        return scatter(points, x_label=x_label, y_label=y_label, empty_text=empty)

    return charts.get(("scatter-chart", lang, *scatter_key(query, suite)), draw)


def _field_errors(errors: Sequence[Any]) -> dict[str, str]:
    """Pydantic's errors by form field, so each message sits under its input ("" : the whole form)."""
    by_field: dict[str, str] = {}
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        field = location[0] if location else ""
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        by_field[field] = f"{by_field[field]}; {message}" if field in by_field else message
    return by_field


def _submit_page(
    request: Request,
    session: Session,
    settings: Settings,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return render_page(
        request,
        settings,
        "submit.html",
        status_code,
        form=form or {},
        error=error,
        field_errors=field_errors or {},
        queue=queue_snapshot(session),
        kinds=[kind for kind in KINDS if kind != "adapter"],  # adapters are a weight type
        precisions=PRECISIONS,
    )


@router.get("/submit", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def submit_form(
    request: Request,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    return _submit_page(request, session, settings)


@router.post("/submit", response_class=HTMLResponse, response_model=None)
async def submit_post(
    request: Request,
    caller: Principal = Depends(member),
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {
        key: str(value).strip()
        for key, value in form.items()
        if key not in ("suites", CSRF_FIELD) and str(value).strip()
    }
    fields["suites"] = [str(s) for s in form.getlist("suites")] or ["smoke"]
    try:
        body = SubmissionIn.model_validate(fields)
        submit(session, settings, body, caller)
    except ValidationError as exc:
        errors = exc.errors()
        return _submit_page(
            request, session, settings, 422, fields, describe_validation_errors(errors), _field_errors(errors)
        )
    except AppError as exc:
        session.rollback()
        return _submit_page(
            request, session, settings, exc.status_code, fields, exc.message, {exc.field or "": exc.message}
        )
    return RedirectResponse("/submit?submitted=1", status_code=303)
