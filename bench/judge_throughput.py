"""Judge throughput: 200 judge calls through evaluators.judge.client.JudgeClient (the real openai
async client) against a scripted OpenAI-compatible server on loopback that answers each request
after 100 ms, with concurrency 16. The ideal wall time is 200 x 0.1 s / 16 = 1.25 s; goal: within
1.25x of it. Then the same 200 requests again with the response cache (a fresh SQLite database,
migrated): goal 100% cache hits and no call reaching the server (its request count is read back).
The server runs in its own process, so client and server do not share an interpreter.
Writes bench/results/judge_throughput.json.

    .venv/bin/python bench/judge_throughput.py [--calls 200] [--concurrency 16] [--latency 0.1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.judging.cache_store import DatabaseJudgeCache  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from evaluators.judge.client import JudgeClient, JudgeEndpoint, JudgeRequest  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

RESULTS = REPO / "bench" / "results" / "judge_throughput.json"
GOAL = 1.25


def wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the judge server did not start")


def server_count(port: int) -> int:
    """Chat completions the server has answered, as it counts them."""
    import httpx

    return int(httpx.get(f"http://127.0.0.1:{port}/stats", timeout=5).json()["chat_completions"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3, help="cold runs; the median is reported")
    args = parser.parse_args()
    ideal = args.calls * args.latency / args.concurrency
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.judge_server",
            "--port",
            str(port),
            "--delay",
            str(args.latency),
        ],
        cwd=REPO,
    )
    try:
        wait_for(port)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/judge.db"
            upgrade(url)
            endpoint = JudgeEndpoint(
                base_url=f"http://127.0.0.1:{port}/v1", model="judge", concurrency=args.concurrency
            )

            def batch_for(run: int) -> list[JudgeRequest]:
                return [
                    JudgeRequest(
                        [{"role": "user", "content": f"Rate answer {i} of run {run} from 1 to 10 as [[n]]."}],
                        "bench@1",
                    )
                    for i in range(args.calls)
                ]

            # Warm the connection path once (not counted): imports and the first TCP connection.
            JudgeClient(endpoint).judge([JudgeRequest([{"role": "user", "content": "warm-up"}], "warm@1")])
            # Cold runs (new texts each, so the cache has none of them); the median is the figure,
            # since one run on a busy 2-core machine moves by +-5%.
            cold_times: list[float] = []
            for run in range(args.repeats):
                batch = batch_for(run)
                cold = JudgeClient(endpoint, DatabaseJudgeCache(url))
                started = time.perf_counter()
                replies = cold.judge(batch)
                cold_times.append(time.perf_counter() - started)
            cold_s = statistics.median(cold_times)
            served_before = server_count(port)
            again = JudgeClient(endpoint, DatabaseJudgeCache(url))
            started = time.perf_counter()
            cached = again.judge(batch)
            cached_s = time.perf_counter() - started
            served_during_rerun = server_count(port) - served_before
        assert all(r.ok for r in replies) and [r.texts for r in cached] == [r.texts for r in replies]
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratio = cold_s / ideal
    hit_rate = again.stats.cache_hits / args.calls
    print(
        f"{args.calls} judge calls · {args.latency * 1000:.0f} ms server latency · "
        f"concurrency {args.concurrency}"
    )
    print(f"cold runs: {', '.join(f'{t:.2f} s' for t in cold_times)}")
    print(f"ideal {ideal:.2f} s · measured (median) {cold_s:.2f} s · ratio {ratio:.2f}x "
          f"(goal <= {GOAL}x: {'pass' if ratio <= GOAL else 'FAIL'}) · calls {cold.stats.calls}")  # fmt: skip
    passed = hit_rate == 1 and again.stats.calls == 0 and served_during_rerun == 0
    print(f"re-run: {cached_s:.2f} s · cache hits {hit_rate:.0%} · client calls {again.stats.calls} · "
          f"requests the server saw {served_during_rerun} ({'pass' if passed else 'FAIL'})")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "calls": args.calls, "latency_s": args.latency, "concurrency": args.concurrency, "ideal_s": ideal,
        "measured_s": cold_s, "cold_runs_s": cold_times, "ratio": ratio, "goal_ratio": GOAL,
        "rerun_s": cached_s,
        "rerun_cache_hit_rate": hit_rate, "rerun_client_calls": again.stats.calls,
        "rerun_server_requests": served_during_rerun,
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
