"""The leaderboard under load: 10,000 models x 12 benchmarks in PostgreSQL, the real server, an
open-loop load generator in its own process on loopback.

1. Creates a PostgreSQL database, migrates it, registers 12 private benchmarks (a few generated items
   each) in a temporary private dir: the suite "private" is the only way to get 12 benchmarks.
2. Seeds models, finished requests, primary results and per-item scores with bulk inserts (model
   facts varied so filters select realistic slices; a few models have an older re-run or miss a
   benchmark), then builds the board's index with the real code, app.leaderboard.entries.rebuild_all
   (timed), which includes the rank bootstrap of every row (app/leaderboard/rank_stats.py).
3. Per server worker count: starts the app (1 worker: `evalboard serve --no-local-worker`; more:
   `uvicorn app.main:create_app --factory --workers N`), checks every URL once, then drives each
   target from bench/loadgen.py (a separate process) at a fixed arrival rate with keep-alive
   connections: latencies count from each request's scheduled send time. Each server runs with its
   view cache on (repeat views served from memory) and off (EVALBOARD_VIEW_CACHE=false: what every
   view costs right after a request finishes, or a view nobody asked for before).
   Targets: `GET /api/v1/leaderboard?suite=private` (50 rows), `GET /?suite=private`, and a mix of
   filtered, searched, sorted and cursor-page API views, one in 11 a search never made before.
4. Times --writes finished requests written as a worker writes them (runs.mark_finished: results,
   item scores, board row, ranks, the bootstrap of the rows whose neighbour changed).
5. Prints p50 / p99 / achieved requests/s per target against the goals (p99 < 50 ms for the API and
   < 150 ms for the page at 200 requests/s, no errors), writes bench/results/leaderboard_load.json
   (or --json PATH) and drops the database unless --keep-db.

    .venv/bin/python bench/leaderboard_load.py [--models 10000] [--rate 200] [--duration 30]
                                               [--workers 1,2] [--view-cache on|off|both]
                                               [--targets api,page,api-mix] [--writes 5] [--quick]
                                               [--keep-db] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from board_seed import index_board, recreate_database, register_benchmarks, seed, time_writes  # noqa: E402

from app.migrate import upgrade  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

DATABASE = "evalboard_bench_leaderboard_load"
BIN = Path(sys.executable).parent
GOALS_MS = {"api": 50.0, "page": 150.0, "api-mix": 50.0}


# --- server ---------------------------------------------------------------------------------------


def start_server(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    if workers == 1:  # what people run; no local worker (it would compete for the 2 cores)
        command = [str(BIN / "evalboard"), "serve", "--no-local-worker", "--port", str(port)]
    else:  # serve has no workers option; the same app factory, N processes on one socket
        command = [str(BIN / "uvicorn"), "app.main:create_app", "--factory", "--workers", str(workers)]
        command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as handle:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"the server did not answer /healthz within 90 s; see {log}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
            process.wait()


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds (user + system) per pid; a process gone by the second reading counts as 0 there."""
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
        except psutil.Error:
            pass
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(max(0.0, total - before.get(pid, 0.0)) for pid, total in after.items())


def server_processes(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def machine_busy_seconds() -> float:
    """CPU seconds every core spent busy (PostgreSQL's short-lived backends included, which a
    per-process reading would miss when the server's pool opens and closes overflow connections)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


# --- targets --------------------------------------------------------------------------------------


def targets(base: str, benchmarks: list[str], models: int) -> tuple[dict[str, list[str]], list[str]]:
    """Target name -> paths (cycled by the generator), and what the pre-flight check saw wrong."""
    api = "/api/v1/leaderboard?suite=private"
    problems: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as client:

        def page(path: str) -> dict[str, Any]:
            response = client.get(path)
            if response.status_code != 200:
                problems.append(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
                return {}
            body: dict[str, Any] = response.json()
            return body

        first = page(api)
        if first and (len(first.get("rows", [])) != 50 or first.get("total") != models):
            problems.append(
                f"{api}: {len(first.get('rows', []))} rows of {first.get('total')}, expected 50 of {models}"
            )
        cursor = first.get("next_after")
        deep = cursor
        for _ in range(18):  # follow the cursor to page 20
            deep = page(f"{api}&after={deep}").get("next_after") if deep else None
        filtered = f"{api}&type=chat,fine_tuned&size=7-65&sort={benchmarks[4]}"
        filtered_next = page(filtered).get("next_after")
        mix = [
            f"{api}&type=chat&size=7-65&sort={benchmarks[2]}&q=org-1",
            f"{api}&after={cursor}",
            f"{api}&type=adapter,merge&precision=bfloat16,4bit&hide_flagged=1",
            f"{api}&sort={benchmarks[7]}&order=asc",
            f"{api}&q=org-12",
            f"{filtered}&after={filtered_next}",
            f"{api}&sort=params",
            f"{api}&after={deep}",
            f"{api}&min_params=1&max_params=14&sort=name",
            f"{api}&q=@license:apache-2.0;@type:merge",
            f"{api}&q=model-{{n}}",  # the long tail: a search no one made before (a cache miss)
        ]
        for path in mix:
            page(path.replace("{n}", "1"))
        html = client.get("/?suite=private")
        if html.status_code != 200:
            problems.append(f"/?suite=private: HTTP {html.status_code}: {html.text[:300]}")
    return {"api": [api], "page": ["/?suite=private"], "api-mix": mix}, problems


def one_at_a_time_ms(base: str, paths: list[str], rounds: int = 40) -> float:
    """Median latency of requests sent one after another (no queueing): the service time, whose
    inverse times the cores free for the server bounds the rate a target can sustain."""
    timings = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for index in range(rounds + 5):
            started = time.perf_counter()
            client.get(paths[index % len(paths)].replace("{n}", str(10_000 + index)))
            if index >= 5:  # the first few warm the connection and caches
                timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def drive(port: int, name: str, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, str(REPO / "bench" / "loadgen.py"), "--port", str(port)]
    command += ["--rate", str(args.rate), "--duration", str(args.duration), "--warmup", str(args.warmup)]
    for path in paths:
        command += ["--path", path]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if completed.returncode != 0:
        raise SystemExit(f"loadgen failed on {name}:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout)
    goal = GOALS_MS[name]
    result["target"], result["goal_p99_ms"] = name, goal
    result["passed"] = (
        result["errors"] == 0 and result["p99_ms"] < goal and result["achieved_rps"] >= 0.98 * args.rate
    )
    return result


def run_server(
    env: dict[str, str], workers: int, view_cache: bool, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    port = free_port()
    log = work / f"server-{workers}-{'cache' if view_cache else 'nocache'}.log"
    env = {**env, "EVALBOARD_VIEW_CACHE": "true" if view_cache else "false"}
    process = start_server(env, port, workers, log)
    try:
        paths, problems = targets(f"http://127.0.0.1:{port}", args.benchmark_names, args.models)
        for problem in problems:
            print(f"  pre-flight: {problem}", flush=True)
        results = []
        for name, target_paths in paths.items():
            if name not in args.targets:
                continue
            alone_ms = one_at_a_time_ms(f"http://127.0.0.1:{port}", target_paths)
            server_before = cpu_seconds(server_processes(process.pid))
            machine_before = machine_busy_seconds()
            started = time.perf_counter()
            result = drive(port, name, target_paths, args)
            # Around warm-up and measurement alike; 100% is one core.
            wall = time.perf_counter() - started
            server_cpu = cpu_used(server_before, cpu_seconds(server_processes(process.pid)))
            result["server_cpu_pct"] = 100 * server_cpu / wall
            result["machine_cpu_pct"] = 100 * (machine_busy_seconds() - machine_before) / wall
            result["workers"], result["view_cache"], result["one_at_a_time_p50_ms"] = (
                workers,
                view_cache,
                alone_ms,
            )
            results.append(result)
            print(f"  {row(result)}", flush=True)
            for sample in result["error_samples"]:
                print(f"    error: {sample}", flush=True)
    finally:
        stop_server(process)
    return {
        "workers": workers,
        "view_cache": view_cache,
        "preflight_problems": problems,
        "server_log": str(log),
        "targets": results,
    }


HEADER = (
    f"{'target':8} {'workers':>7} {'cache':>5} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'req/s':>6} {'goal p99':>8} {'result':>6} {'1-by-1':>7} {'srv cpu':>7} {'gen cpu':>7} {'all cpu':>7}"
)


def row(result: dict[str, Any]) -> str:
    generator = result["generator_cpu_pct"]
    return (
        f"{result['target']:8} {result['workers']:>7} {'on' if result['view_cache'] else 'off':>5} "
        f"{result['requests']:>8} {result['errors']:>6} "
        f"{result['p50_ms']:>7.1f} {result['p99_ms']:>7.1f} {result['achieved_rps']:>6.1f} "
        f"{'< ' + format(result['goal_p99_ms'], 'g'):>8} {'pass' if result['passed'] else 'FAIL':>6} "
        f"{result['one_at_a_time_p50_ms']:>7.1f} "
        f"{result['server_cpu_pct']:>6.0f}% {generator:>6.0f}% {result['machine_cpu_pct']:>6.0f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--benchmarks", type=int, default=12)
    parser.add_argument("--rate", type=float, default=200.0, help="Requests per second, open loop.")
    parser.add_argument("--duration", type=float, default=30.0, help="Measured seconds per target.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Unreported seconds before each target.")
    parser.add_argument("--workers", default="2", help="Server worker counts to measure, e.g. 1,2.")
    parser.add_argument(
        "--view-cache",
        choices=("on", "off", "both"),
        default="both",
        help="The server's view cache (EVALBOARD_VIEW_CACHE): on shows repeat views, off the SQL and "
        "rendering every view costs (after each finished request, or for a view not seen before).",
    )
    parser.add_argument(
        "--targets",
        default="api,page,api-mix",
        help="Targets to drive, comma-separated: api, page, api-mix (e.g. --models 100000 --targets api).",
    )
    parser.add_argument("--quick", action="store_true", help="Smoke check: 1,000 models, 5 s per target.")
    parser.add_argument("--keep-db", action="store_true", help=f"Keep the database {DATABASE}.")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--writes", type=int, default=5, help="Finished requests timed after the load runs.")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "leaderboard_load.json")
    args = parser.parse_args()
    if args.quick:
        args.models, args.duration, args.warmup = 1000, 5.0, 1.0
    worker_counts = [int(part) for part in args.workers.split(",") if part.strip()]
    args.targets = [part.strip() for part in args.targets.split(",") if part.strip()]
    unknown = set(args.targets) - {"api", "page", "api-mix"}
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}: use api, page, api-mix")

    work = Path(tempfile.mkdtemp(prefix="evalboard-load-"))
    private_dir = work / "private"
    benchmarks = register_benchmarks(private_dir, args.benchmarks)
    args.benchmark_names = [spec.name for spec in benchmarks]
    url = recreate_database(DATABASE)
    env = {
        **os.environ,
        "EVALBOARD_DATABASE_URL": url,
        "EVALBOARD_PRIVATE_DIR": str(private_dir),
        "EVALBOARD_HOME": str(work / "home"),
        "EVALBOARD_HUB_OFFLINE": "1",
        # One address sends every request: the per-caller rate limit would refuse most of them, and
        # this bench measures the board, not the limiter (bench/auth_overhead.py measures that).
        "EVALBOARD_RATE_LIMIT": "",
    }
    os.environ.update({key: env[key] for key in ("EVALBOARD_DATABASE_URL", "EVALBOARD_PRIVATE_DIR")})
    try:
        upgrade(url)
        started = time.perf_counter()
        counts = seed(url, args.models, benchmarks, random.Random(args.seed))
        insert_s = time.perf_counter() - started
        print(
            f"seeded {counts['model']} models, {counts['eval_request']} finished requests, "
            f"{counts['result']} results ({len(benchmarks)} benchmarks) in {insert_s:.1f} s",
            flush=True,
        )
        rebuild_s, entries = index_board(url, private_dir)
        print(f"rebuild_all: {entries} board rows in {rebuild_s:.1f} s", flush=True)
        runs = []
        caches = {"on": [True], "off": [False], "both": [True, False]}[args.view_cache]
        for workers in worker_counts:
            for view_cache in caches:
                print(
                    f"server with {workers} worker(s), view cache {'on' if view_cache else 'off'}, "
                    f"{args.rate:g} req/s for {args.duration:g} s per target"
                )
                print(f"  {HEADER}", flush=True)
                runs.append(run_server(env, workers, view_cache, args, work))
        # After the load runs, which expect exactly --models rows: what a worker's commit costs.
        writes = time_writes(url, private_dir, benchmarks, args.writes, random.Random(args.seed + 1))
        write_ms = 1000 * statistics.median(writes) if writes else None
        if write_ms is not None:
            print(f"one finished request written (results, board row, ranks): median {write_ms:.0f} ms "
                  f"of {len(writes)}", flush=True)  # fmt: skip
    finally:
        if not args.keep_db:
            recreate_database(DATABASE, drop_only=True)
    print(HEADER)
    for run in runs:
        for result in run["targets"]:
            print(row(result))
    print(
        "latency: from each request's scheduled send time to its response or failure (10 s timeouts "
        "count as errors); req/s: successful responses per second; pass: no errors, p99 under the goal, "
        ">= 98% of the rate; 1-by-1: p50 ms of requests sent one at a time (service time); cpu: % of "
        f"one core (server processes, generator, whole machine: {os.cpu_count()} cores, PostgreSQL incl.)"
    )
    report = {
        "benchmark": "leaderboard_load",
        "models": args.models,
        "benchmarks": len(benchmarks),
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "cpus": os.cpu_count(),
        "seed_counts": counts,
        "insert_seconds": insert_s,
        "rebuild_all_seconds": rebuild_s,
        "write_median_ms": write_ms,
        "board_rows": entries,
        "goals_p99_ms": GOALS_MS,
        "runs": runs,
        "database": f"{DATABASE} (kept)" if args.keep_db else None,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
