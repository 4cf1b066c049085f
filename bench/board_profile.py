"""Where one uncached board view spends its time: PostgreSQL, 10,000 models x 12 benchmarks.

For each class of view (default, filtered, a new search, sorted by a benchmark, cursor page 20, the
HTML page) this drives the real app in-process (every middleware and dependency, view cache off)
and reports:

- `view ms`: median wall time of the whole request (no profiler running);
- `sql ms`: the database's own time for the statements the view ran (EXPLAIN ANALYZE: planning +
  execution, summed), and `stmts`, how many it ran;
- `db ms`: the same statements as the client waited for them (round trips, result transfer, the
  driver's type parsing);
- a split of the view's time by who spent it, from cProfile's own-time per function (shares of the
  profiled run applied to the unprofiled median): `driver` (psycopg and its socket waits), `sqla`
  (SQLAlchemy: statement compilation, ORM hydration, result rows), `pydantic` (validation and
  serialization), `json` (json / orjson), `template` (Jinja2 and the compiled templates), `framework`
  (FastAPI, Starlette, anyio, the app's middleware stack), `app` (this project's Python) and `other`.

Seeds with bench/board_seed.py unless --reuse (a database kept by `leaderboard_load.py --keep-db` or
an earlier run of this script with --keep-db).

    .venv/bin/python bench/board_profile.py [--models 10000] [--rounds 40] [--reuse] [--keep-db]
                                            [--json PATH] [--dump DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from board_seed import ADMIN_URL, index_board, recreate_database, register_benchmarks, seed  # noqa: E402

DATABASE = "evalboard_bench_leaderboard_load"  # the load bench's, so a kept one is reused
BUCKETS = ("driver", "sqla", "pydantic", "json", "template", "framework", "app", "other")


def run_sync_inline() -> None:
    """Sync endpoints and dependencies run on anyio's thread pool, which cProfile (one thread) would
    not see: run them on the event loop's thread instead (this script only: one request at a time)."""
    import fastapi.dependencies.utils as dependency_utils
    import fastapi.routing as routing

    import app.deps as app_deps
    import app.leaderboard.router as board_router
    import app.web.router as web_router

    async def inline(call: Any, /, *args: Any, **kwargs: Any) -> Any:
        return call(*args, **kwargs)

    @asynccontextmanager
    async def inline_context(manager: Any) -> AsyncIterator[Any]:
        with manager as value:
            yield value

    routing.run_in_threadpool = inline  # type: ignore[assignment]
    dependency_utils.run_in_threadpool = inline  # type: ignore[assignment]
    dependency_utils.contextmanager_in_threadpool = inline_context  # type: ignore[assignment]
    # The app's own thread pool calls (the session's end, the board routes' one call).
    for module in (app_deps, board_router, web_router):
        module.run_in_threadpool = inline  # type: ignore[attr-defined]


def bucket_of(filename: str, name: str) -> str:
    text = f"{filename} {name}"
    if "psycopg" in text or name in ("<method 'poll' of 'select.epoll' objects>",) or "select." in name:
        return "driver"
    if "sqlalchemy" in text:
        return "sqla"
    if "pydantic" in text:
        return "pydantic"
    if "orjson" in text or f"{os.sep}json{os.sep}" in filename or "_json" in name:
        return "json"
    if "jinja2" in text or "markupsafe" in text or filename.endswith(".html"):
        return "template"
    if any(part in text for part in ("fastapi", "starlette", "anyio", "httpx", "h11", "asyncio")):
        return "framework"
    if filename.startswith(str(REPO)):
        return "app"
    return "other"


class StatementLog:
    """The statements the app's engines run, and the client-side time each took."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []
        self.recording = False

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        conn.info["evalboard_started"] = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if self.recording:
            elapsed = time.perf_counter() - conn.info.pop("evalboard_started", time.perf_counter())
            self.statements.append((statement, parameters, elapsed))


def explain_ms(url: str, statements: list[tuple[str, Any, float]]) -> list[float]:
    """The server's planning + execution time of each SELECT (run again under EXPLAIN ANALYZE)."""
    import psycopg

    times = []
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        for statement, parameters, _ in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                times.append(0.0)
                continue
            plan = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).fetchone()
            assert plan is not None
            found = plan[0][0]
            times.append(found["Planning Time"] + found["Execution Time"])
    return times


async def profile_view(
    client: httpx.AsyncClient, path: str, rounds: int, log: StatementLog, url: str, dump: Path | None
) -> dict[str, Any]:
    async def get(index: int) -> None:
        response = await client.get(path.replace("{n}", str(50_000 + index)))
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")

    for index in range(5):  # warm connections, compiled-statement caches, templates
        await get(index)
    timings = []
    for index in range(rounds):
        started = time.perf_counter()
        await get(100 + index)
        timings.append((time.perf_counter() - started) * 1000)
    view_ms = statistics.median(timings)
    log.statements, log.recording = [], True
    await get(999)
    log.recording = False
    statements = list(log.statements)
    sql_times = explain_ms(url, statements)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(rounds):
        await get(2000 + index)
    profiler.disable()
    if dump is not None:  # for `python -m pstats FILE` (sort cumulative, callers, callees)
        profiler.dump_stats(dump)
    own: dict[str, float] = defaultdict(float)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, tottime, _, _) in stats.items():
        own[bucket_of(filename, name)] += tottime
    total = sum(own.values()) or 1.0
    split = {bucket: view_ms * own[bucket] / total for bucket in BUCKETS}
    by_function = sorted(stats.items(), key=lambda item: -item[1][2])[:TOP_FUNCTIONS]
    top = [
        {"function": f"{Path(filename).name}:{line} {name}", "own_ms": view_ms * tottime / total}
        for (filename, line, name), (_, _, tottime, _, _) in by_function
    ]
    return {
        "path": path,
        "view_ms": view_ms,
        "statements": len(statements),
        "db_ms": 1000 * sum(elapsed for _, _, elapsed in statements),
        "sql_ms": sum(sql_times),
        "split_ms": split,
        "top_functions": top,  # by own time, ms per view
        "sql": [
            {"server_ms": server, "client_ms": 1000 * elapsed, "statement": statement}
            for (statement, _, elapsed), server in zip(statements, sql_times, strict=True)
        ],
    }


async def profile_all(
    url: str, benchmarks: list[str], rounds: int, dump: Path | None
) -> list[dict[str, Any]]:
    from app.main import create_app

    run_sync_inline()
    log = StatementLog()
    log.install()
    app = create_app()
    api = "/api/v1/leaderboard?suite=private"
    views: dict[str, str] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        deep = (await client.get(api)).json()["next_after"]
        for _ in range(18):
            deep = (await client.get(f"{api}&after={deep}")).json()["next_after"]
        views = {
            "default": api,
            "filtered": f"{api}&type=chat,fine_tuned&size=7-65&hide_flagged=1",
            "searched": f"{api}&q=model-{{n}}",  # a search never made before, every round
            "sorted": f"{api}&sort={benchmarks[4]}",
            "page 20": f"{api}&after={deep}",
            "html": "/?suite=private",
        }
        results = []
        for name, path in views.items():
            profile = dump / f"{name.replace(' ', '_')}.prof" if dump else None
            result = await profile_view(client, path, rounds, log, url, profile)
            result["view"] = name
            results.append(result)
            print(row(result), flush=True)
    return results


TOP_FUNCTIONS = 25
HEADER = f"{'view':9} {'view ms':>7} {'sql ms':>6} {'stmts':>5} {'db ms':>6} " + " ".join(
    f"{bucket:>9}" for bucket in BUCKETS
)


def row(result: dict[str, Any]) -> str:
    split = " ".join(f"{result['split_ms'][bucket]:>9.2f}" for bucket in BUCKETS)
    return (
        f"{result['view']:9} {result['view_ms']:>7.2f} {result['sql_ms']:>6.2f} {result['statements']:>5} "
        f"{result['db_ms']:>6.2f} {split}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--benchmarks", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=40, help="Requests timed (and profiled) per view.")
    parser.add_argument("--reuse", action="store_true", help=f"Use the seeded database {DATABASE} as it is.")
    parser.add_argument("--keep-db", action="store_true", help=f"Keep the database {DATABASE}.")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "board_profile.json")
    parser.add_argument("--dump", type=Path, help="Write each view's cProfile stats to DIR/VIEW.prof.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="evalboard-profile-"))
    private_dir = work / "private"
    benchmarks = register_benchmarks(private_dir, args.benchmarks)
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}" if args.reuse else recreate_database(DATABASE)
    os.environ.update(
        {
            "EVALBOARD_DATABASE_URL": url,
            "EVALBOARD_PRIVATE_DIR": str(private_dir),
            "EVALBOARD_HOME": str(work / "home"),
            "EVALBOARD_HUB_OFFLINE": "1",
            "EVALBOARD_VIEW_CACHE": "false",
            "EVALBOARD_RATE_LIMIT": "",
        }
    )
    rebuild_s = None
    try:
        if not args.reuse:
            from app.migrate import upgrade

            upgrade(url)
            seed(url, args.models, benchmarks, random.Random(args.seed))
            rebuild_s, entries = index_board(url, private_dir)
            print(f"rebuild_all: {entries} board rows in {rebuild_s:.1f} s", flush=True)
        print(HEADER, flush=True)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
        names = [spec.name for spec in benchmarks]
        results = asyncio.run(profile_all(url, names, args.rounds, args.dump))
    finally:
        if not args.keep_db and not args.reuse:
            recreate_database(DATABASE, drop_only=True)
    print(
        "view ms: median in-process request (all middleware, view cache off); sql ms: EXPLAIN ANALYZE "
        "planning + execution of its statements; db ms: the same as the client waited; the rest: the "
        "view ms split by cProfile own time (driver = psycopg incl. socket waits, sqla = SQLAlchemy)"
    )
    report = {"benchmark": "board_profile", "models": args.models, "rebuild_all_seconds": rebuild_s,
              "views": results}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
