"""GET /api/v1/leaderboard (pages), /api/v1/leaderboard.csv and .json (exports), /api/v1/suites."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.policy import anonymous
from app.config import Settings
from app.db import read_scope
from app.deps import get_session, get_settings_dep
from app.leaderboard.cache import ViewCache
from app.leaderboard.export import csv_lines
from app.leaderboard.memo import BoundMemo
from app.leaderboard.query import KINDS, MAX_LIMIT, SIZE_PRESETS, BoardQuery, parse
from app.leaderboard.schemas import LeaderboardPage, LeaderboardRow
from app.leaderboard.service import all_row_json, all_rows, leaderboard_json, resolve_suite
from benchmarks.catalog import all_suites
from benchmarks.spec import Suite

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])


async def board_view(  # async: no I/O but a stat of the private registry; no thread pool hop
    request: Request,
    settings: Settings = Depends(get_settings_dep),
    # Declared for the API docs; parsing reads request.query_params, where a filter may repeat.
    suite: str = Query("smoke"),
    data: str = Query(
        "hub", description="hub: real datasets; bundled: the bundled sample data (not comparable)"
    ),
    view: str = Query("normalized", description="normalized or raw (suites with normalized benchmarks)"),
    type: str | None = Query(
        None, description="Model types, comma-separated or repeated: " + ", ".join(KINDS)
    ),
    precision: str | None = Query(None, description="Precisions, comma-separated or repeated"),
    size: str | None = Query(None, description="Size presets (billions): " + ", ".join(SIZE_PRESETS)),
    # Numbers are declared as text so that our parser, not FastAPI, words the error (same as the page).
    min_params: str | None = Query(None, description="Billions of parameters, inclusive"),
    max_params: str | None = Query(None, description="Billions of parameters, inclusive"),
    q: str | None = Query(None, description="Search: `;` = or; @license: @precision: @type: fields"),
    hide_flagged: str | None = Query(None, description="1: leave flagged models out"),
    sort: str = Query("average", description="average, name, params, submitted, evaluated or a benchmark"),
    order: str | None = Query(None, description="asc or desc (default desc; name: asc)"),
    after: str | None = Query(None, description="The previous page's next_after"),
    limit: str = Query("50", description=f"Rows per page, 1 to {MAX_LIMIT}"),
) -> tuple[BoardQuery, Suite]:
    chosen = resolve_suite(suite, settings.resolved_private_dir)
    return parse(request.query_params, chosen), chosen


@router.get("/leaderboard", dependencies=[Depends(anonymous)], response_model=LeaderboardPage)
async def get_leaderboard(request: Request, view: tuple[BoardQuery, Suite] = Depends(board_view)) -> Response:
    # The board's busiest route does its database work in one thread pool call, as its own unit of
    # work: a sync route with the session dependency paid three hops (session in and out, the route).
    body = await run_in_threadpool(_leaderboard_body, request, *view)
    return Response(body, media_type="application/json")


def _leaderboard_body(request: Request, query: BoardQuery, suite: Suite) -> bytes:
    with read_scope(request.app.state.settings.resolved_database_url) as session:
        facts = BoundMemo(request.app.state.board_memo, session)  # one board version read per view
        return cached_view(
            request,
            facts,
            ("api", request.url.query, tuple(b.name for b in suite.benchmarks)),
            lambda: leaderboard_json(session, query, suite, facts),
        )


def cached_view(request: Request, facts: BoundMemo, key: Hashable, render: Callable[[], bytes]) -> bytes:
    """The view's bytes from the app's ViewCache while the board is unchanged, else rendered now."""
    cache: ViewCache | None = request.app.state.view_cache
    if cache is None:
        return render()
    body = cache.get(facts.version, key)
    if body is None:
        body = render()
        cache.put(facts.version, key, body)
    return body


@router.get("/leaderboard.json", dependencies=[Depends(anonymous)], response_model=list[LeaderboardRow])
def export_json(
    view: tuple[BoardQuery, Suite] = Depends(board_view), session: Session = Depends(get_session)
) -> StreamingResponse:
    """Every row matching the filters (no page), as a JSON array, streamed."""

    def body() -> Iterator[str]:
        yield "["
        for index, row in enumerate(all_row_json(session, *view)):
            yield ("," if index else "") + row
        yield "]"

    return StreamingResponse(body(), media_type="application/json", headers=_download("json", view[0]))


@router.get("/leaderboard.csv", dependencies=[Depends(anonymous)], response_class=StreamingResponse)
def export_csv(
    view: tuple[BoardQuery, Suite] = Depends(board_view), session: Session = Depends(get_session)
) -> StreamingResponse:
    """Every row matching the filters, one line per model: scores on the 0-1 scale with their stderr."""
    return StreamingResponse(
        csv_lines(all_rows(session, *view), view[1]),
        media_type="text/csv; charset=utf-8",
        headers=_download("csv", view[0]),
    )


def _download(extension: str, query: BoardQuery) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="evalboard-{query.suite}-{query.data}.{extension}"'}


class BenchmarkOut(BaseModel):
    name: str
    task: str
    display_en: str
    display_ko: str
    num_fewshot: int
    primary_metric: str
    language: str
    random_baseline: float
    version: str
    description: str
    bundled_task: str | None
    aggregation: str  # single | group | normalized_mean (Open LLM v2)
    request_type: str  # loglikelihood | generate
    size: str  # the real benchmark's evaluation set
    licence: str
    source: str
    hub_datasets: list[str]
    private: bool  # items and per-sample logs are never served


class SuiteOut(BaseModel):
    name: str
    title_en: str
    title_ko: str
    description: str
    benchmarks: list[BenchmarkOut]


@router.get("/suites", dependencies=[Depends(anonymous)], response_model=list[SuiteOut])
def list_suites(settings: Settings = Depends(get_settings_dep)) -> list[SuiteOut]:
    return [
        SuiteOut(
            name=s.name,
            title_en=s.title_en,
            title_ko=s.title_ko,
            description=s.description,
            benchmarks=[
                BenchmarkOut(
                    **{
                        k: v
                        for k, v in vars(b).items()
                        if k in BenchmarkOut.model_fields and k != "hub_datasets"
                    },
                    hub_datasets=[
                        path if name is None else f"{path} ({name})" for path, name in b.hub_datasets
                    ],
                )
                for b in s.benchmarks
            ],
        )
        for s in all_suites(settings.resolved_private_dir).values()
    ]
