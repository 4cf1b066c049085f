"""The model page, the compare page and the about page. Like the board, they call services and
never query the database; charts are drawn here (server-side SVG) in the page's language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.auth.policy import anonymous
from app.config import Settings
from app.deps import SESSION, get_settings_dep
from app.errors import NotFound
from app.runs.compare import MAX_MODELS, MIN_MODELS, BadComparison, Comparison, compare, parse_ids
from app.runs.model_pages import (
    SuiteResult,
    is_whole_number,
    latest_results,
    lineage,
    model_facts,
    scores_csv,
)
from app.runs.sample_view import SAMPLES_PER_PAGE, browse_samples
from app.runs.service import list_requests
from app.submissions.schemas import ModelOut
from app.submissions.service import list_models, models_out
from app.web.charts import Bar, Series, bars, grouped_bars
from app.web.i18n import Translator
from app.web.router import render_page

router = APIRouter(include_in_schema=False)

# A model page lists this many of its requests (newest first); older ones are in the API.
REQUESTS_SHOWN = 100
MODELS_TO_PICK_FROM = 20


def _whole_number(text: str | None, default: int | None = None) -> int | None:
    """Query and path numbers parsed by hand: a bad one gets the page's own answer, not a JSON 422."""
    return int(text) if text is not None and is_whole_number(text) else default


def suite_bars(result: SuiteResult, t: Translator) -> Markup:
    items = [Bar(t.pick(s.display_ko, s.display_en), s.value, s.stderr) for s in result.scores]
    return bars(items, empty_text=t("chart.no_scores"))


def compare_bars(comparison: Comparison, t: Translator) -> Markup:
    labels = [t.pick(row.display_ko, row.display_en) for row in comparison.rows]
    series = [
        Series(
            f"#{model.id} {model.name}",
            [row.cells[index].value for row in comparison.rows],
            [row.cells[index].stderr for row in comparison.rows],
        )
        for index, model in enumerate(comparison.models)
    ]
    return grouped_bars(labels, series, empty_text=t("chart.no_scores"), missing_text=t("chart.missing"))


@router.get("/models/{model_id}", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def model_page(
    request: Request,
    model_id: str,
    run: str | None = None,
    benchmark: str | None = None,
    offset: str | None = None,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    """run, benchmark, offset: which finished request's samples the browser shows, and where."""
    number = _whole_number(model_id)
    try:
        model = model_facts(session, number) if number is not None else None
    except NotFound:
        model = None
    if model is None:
        return render_page(request, settings, "model.html", 404, model=None, missing_id=model_id)
    private_dir = settings.resolved_private_dir
    results = latest_results(session, model.id, private_dir)
    requests = list_requests(session, model_id=model.id, limit=REQUESTS_SHOWN)
    finished = [r.id for r in requests if r.status == "FINISHED"]
    chosen = _whole_number(run)
    sample_run = chosen if chosen in finished else (results[0].request_id if results else None)
    samples = None
    if sample_run is not None:
        samples = browse_samples(
            session,
            sample_run,
            benchmark=benchmark or None,
            offset=_whole_number(offset, 0) or 0,
            limit=SAMPLES_PER_PAGE,
            private_dir=private_dir,
        )
    return render_page(
        request,
        settings,
        "model.html",
        model=model,
        lineage=lineage(session, model),
        results=results,
        requests=requests,
        samples=samples,
        sample_benchmarks=next((r.scores for r in results if r.request_id == sample_run), []),
        finished_runs=finished,
        suite_bars=suite_bars,
    )


@router.get("/models/{model_id}/scores.csv", dependencies=[Depends(anonymous)])
def model_scores_csv(
    model_id: int,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """The model's latest score per suite, data board and benchmark (values on 0..1)."""
    text = scores_csv(session, model_id, settings.resolved_private_dir)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="model-{model_id}-scores.csv"'},
    )


def _models_to_pick(session: Session) -> list[ModelOut]:
    """Recent models, hidden ones left out as on the board (their ids still compare when typed)."""
    return models_out(session, list_models(session, limit=MODELS_TO_PICK_FROM, offset=0))


@router.get("/compare", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def compare_page(
    request: Request,
    ids: str = "",
    suite: str | None = None,
    data: str | None = None,
    pick: str | None = None,
    session: Session = SESSION,
    settings: Settings = Depends(get_settings_dep),
) -> HTMLResponse:
    """ids: 2 to 4 model ids ("1,2,3"); suite and data (hub | bundled): default, the first suite
    and board on which every one of them has results. pick: a model page's "compare" link, which
    fills the form with that model instead of comparing one model (a 422)."""
    picked = f"{pick}," if not ids.strip() and pick and is_whole_number(pick) else ""
    context: dict[str, Any] = {
        "ids": ids or picked,
        "picked_suite": suite or "",
        "recent": _models_to_pick(session),
        "min_models": MIN_MODELS,
        "max_models": MAX_MODELS,
        "compare_bars": compare_bars,
    }
    if not ids.strip():
        return render_page(request, settings, "compare.html", comparison=None, problem=None, **context)
    try:
        comparison = compare(
            session,
            parse_ids(ids),
            suite=suite or None,
            board=data or None,
            private_dir=settings.resolved_private_dir,
        )
    except BadComparison as exc:
        problem = {"code": exc.code, **exc.values}
        return render_page(
            request, settings, "compare.html", exc.status_code, comparison=None, problem=problem, **context
        )
    if comparison is None:
        problem = {"code": "nothing_shared"}
        return render_page(request, settings, "compare.html", comparison=None, problem=problem, **context)
    return render_page(request, settings, "compare.html", comparison=comparison, problem=None, **context)


@router.get("/about", dependencies=[Depends(anonymous)], response_class=HTMLResponse)
def about_page(request: Request, settings: Settings = Depends(get_settings_dep)) -> HTMLResponse:
    """Every suite and benchmark (the template reads `suites`, which every page has), and how the
    scores are made."""
    return render_page(request, settings, "about.html")
