"""An open-loop HTTP/1.1 load generator: a fixed arrival rate over keep-alive connections on loopback.

bench/leaderboard_load.py runs it as its own process, so its CPU is not the server's. Requests are
scheduled at start + i / rate whatever the server does (open loop); each latency is measured from
its scheduled send time, not from when a connection came free, so a stalled server shows up in the
percentiles instead of slowing the generator down (no coordinated omission). Paths are cycled in
order. Standard library only (uvloop when installed): a small client costs the 2-core test machine
far less CPU per request than a general-purpose one.

    .venv/bin/python bench/loadgen.py --port 8000 --rate 200 --duration 30 --path '/api/v1/leaderboard'

Prints one JSON object: requests, errors, latency percentiles (ms), achieved requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_ERROR_SAMPLES = 5


@dataclass
class Phase:
    # Seconds from the scheduled send to the response, or to the failure (a timeout counts at its
    # full wait): leaving failures out would flatter an overloaded server.
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)  # scheduled -> request written
    body_bytes: int = 0
    last_done: float = 0.0

    def error(self, kind: str, detail: str) -> None:
        self.statuses[kind] += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(detail[:300])


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send one request, read its response: (status, body, keep-alive)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")  # no trailers from uvicorn
                    break
                parts.append((await self.reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        else:
            raise ValueError(f"response with neither Content-Length nor chunked body: {headers}")
        return status, body, headers.get("connection") != "close"


class Pool:
    """Keep-alive connections, opened on demand up to a limit; a request waits for a free one.

    A connection idle longer than idle_limit is closed instead of reused: the server closes idle
    keep-alive connections (uvicorn: after 5 s), and a request sent on one it is closing fails with
    nothing read, which says nothing about the server's speed (HTTP clients retry those)."""

    def __init__(self, host: str, port: int, limit: int, idle_limit: float) -> None:
        self.host, self.port, self.idle_limit = host, port, idle_limit
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(limit)
        self.opened = 0

    async def take(self) -> Connection:
        await self.slots.acquire()
        while self.idle:
            connection = self.idle.pop()
            if time.monotonic() - connection.idle_since < self.idle_limit:
                return connection
            connection.close()
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        except BaseException:
            self.slots.release()
            raise
        self.opened += 1
        return Connection(reader, writer)

    def give(self, connection: Connection | None) -> None:
        if connection is not None:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        self.slots.release()

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


async def one_request(
    pool: Pool, request: bytes, scheduled: float, timeout: float, phase: Phase, path: str
) -> None:
    connection: Connection | None = None
    try:
        connection = await asyncio.wait_for(pool.take(), timeout)
        phase.send_lags.append(time.perf_counter() - scheduled)
        status, body, keep_alive = await asyncio.wait_for(connection.exchange(request), timeout)
    except Exception as exc:  # timeouts, resets: counted, never fatal
        if connection is not None:
            connection.close()
            pool.give(None)
        failed = time.perf_counter()
        phase.latencies.append(failed - scheduled)
        phase.error(
            type(exc).__name__,
            f"{path}: {type(exc).__name__} {failed - scheduled:.1f} s after its send time. {exc}".strip(),
        )
        return
    done = time.perf_counter()
    phase.last_done = max(phase.last_done, done)
    phase.latencies.append(done - scheduled)
    if not keep_alive:
        connection.close()
    pool.give(connection if keep_alive else None)
    if status == 200:
        phase.statuses["200"] += 1
        phase.ok += 1
        phase.body_bytes += len(body)
    else:
        phase.error(str(status), f"{path}: HTTP {status}: {body[:200].decode('utf-8', 'replace')}")


class Requests:
    """The paths cycled in order, as request bytes. `{n}` in a path becomes a number never used
    before in this process (a view no cache has seen: the long tail of searches)."""

    def __init__(self, paths: list[str], host_header: str) -> None:
        self.paths, self.host_header, self.sent = paths, host_header, 0
        self.fixed = {path: self.encode(path) for path in paths if "{n}" not in path}

    def encode(self, path: str) -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {self.host_header}\r\nAccept: */*\r\n"
            "Accept-Language: en\r\nUser-Agent: evalboard-loadgen\r\n\r\n"
        ).encode()

    def next(self) -> tuple[str, bytes]:
        path = self.paths[self.sent % len(self.paths)]
        self.sent += 1
        if path in self.fixed:
            return path, self.fixed[path]
        unique = path.replace("{n}", str(self.sent))
        return unique, self.encode(unique)


async def run_phase(
    pool: Pool, requests: Requests, rate: float, duration: float, timeout: float
) -> tuple[Phase, float, float]:
    """Schedule rate * duration requests; wait for every one. Returns (phase, start, end)."""
    phase = Phase()
    total = round(rate * duration)
    tasks = []
    start = time.perf_counter() + 0.05
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        path, request = requests.next()
        tasks.append(asyncio.create_task(one_request(pool, request, scheduled, timeout, phase, path)))
    await asyncio.gather(*tasks)
    return phase, start, max(phase.last_done, start + duration)


def percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(phase: Phase, start: float, end: float, rate: float, duration: float) -> dict[str, Any]:
    latencies = sorted(phase.latencies)
    lags = sorted(phase.send_lags)
    ok = phase.ok
    errors = len(latencies) - ok
    ms = {f"p{p:g}_ms": percentile(latencies, p) * 1000 for p in (50, 90, 99, 99.9)}
    return {
        "requests": ok + errors,
        "ok": ok,
        "errors": errors,
        "statuses": dict(phase.statuses),
        "error_samples": phase.error_samples,
        **ms,
        "max_ms": (latencies[-1] * 1000) if latencies else math.nan,
        "mean_ms": (sum(latencies) / len(latencies) * 1000) if latencies else math.nan,
        "target_rps": rate,
        "duration_s": duration,
        # Successful responses over the time from the first scheduled send to the last response.
        "achieved_rps": ok / (end - start),
        "send_lag_p99_ms": percentile(lags, 99) * 1000,
        "mean_body_bytes": phase.body_bytes / ok if ok else 0,
    }


async def generate(args: argparse.Namespace) -> dict[str, Any]:
    requests = Requests(args.path, f"{args.host}:{args.port}")
    pool = Pool(args.host, args.port, args.connections, args.idle_limit)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    if args.warmup > 0:  # connections, template compilation, caches; not reported
        await run_phase(pool, requests, args.rate, args.warmup, args.timeout)
    phase, start, end = await run_phase(pool, requests, args.rate, args.duration, args.timeout)
    result = summary(phase, start, end, args.rate, args.duration)
    result["connections_opened"] = pool.opened
    # 100% is one core, over warm-up and measurement (the wait for the last responses included).
    result["generator_cpu_pct"] = (
        100 * (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    )
    pool.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--path", action="append", required=True, help="Repeat: cycled in order; {n}: a fresh number."
    )
    parser.add_argument("--rate", type=float, default=200.0, help="Requests per second (open loop).")
    parser.add_argument("--duration", type=float, default=30.0, help="Measured seconds.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Unreported seconds first, same rate.")
    parser.add_argument("--connections", type=int, default=64, help="Keep-alive connections at most.")
    parser.add_argument(
        "--idle-limit", type=float, default=4.0, help="Seconds a keep-alive connection may sit unused."
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="Seconds before a request is an error.")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        print(json.dumps(asyncio.run(generate(args))))
    else:
        print(json.dumps(uvloop.run(generate(args))))


if __name__ == "__main__":
    main()
