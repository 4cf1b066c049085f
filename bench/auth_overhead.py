"""What identity costs a read: GET /api/v1/leaderboard anonymously, with an API token, and with a web
session cookie, against the real server on loopback, in one run.

The goal (issue 15): a token adds < 1 ms per request at p50. Tokens are found by their prefix and the
lookup is cached in the process, so after the first request a token costs a SHA-256 and a dict
lookup; a session costs one primary-key read. Every request also passes the rate limiter (set high
here so that nothing is refused), so its cost is in every column.

Requests are sent one at a time over one keep-alive connection per caller, interleaved (anonymous,
token, session, anonymous, ...) so that drift in the machine's speed hits each the same.

    .venv/bin/python bench/auth_overhead.py [--requests 3000] [--json PATH]

Writes bench/results/auth_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leaderboard_load import start_server, stop_server  # noqa: E402

from app.auth import accounts  # noqa: E402
from app.auth.tables import Role  # noqa: E402
from app.db import session_scope  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

GOAL_MS = 1.0
PATH = "/api/v1/leaderboard?suite=smoke&data=bundled"


def prepare(home: Path) -> tuple[str, str]:
    """A migrated SQLite database with a member (token) and a password for the session."""
    url = f"sqlite:///{home / 'evalboard.db'}"
    upgrade(url)
    with session_scope(url) as session:
        user = accounts.add_user(session, "bench", role=Role.MEMBER, password="bench-password-1")
        token = accounts.create_token(session, user, label="bench").token
    return url, token


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    form = client.get("/signin")
    csrf = client.cookies.get("evalboard_csrf") or ""
    assert form.status_code == 200, form.text
    done = client.post("/signin", data={"name": "bench", "password": "bench-password-1", "csrf_token": csrf})
    assert done.status_code in (200, 303) and client.cookies.get("evalboard_session"), done.text
    return client


def timed(client: httpx.Client) -> float:
    started = time.perf_counter()
    response = client.get(PATH)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed


def measure(base: str, token: str, requests: int) -> dict[str, list[float]]:
    callers = {
        "anonymous": httpx.Client(base_url=base, timeout=10),
        "token": httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}),
        "session": sign_in(base),
    }
    for client in callers.values():  # warm: connections, the token cache, the server's imports
        for _ in range(50):
            timed(client)
    samples: dict[str, list[float]] = {name: [] for name in callers}
    for _ in range(requests):
        for name, client in callers.items():
            samples[name].append(timed(client))
    for client in callers.values():
        client.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="Requests per caller.")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "auth_overhead.json")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="evalboard-auth-"))
    url, token = prepare(home)
    port = free_port()
    env = {
        **os.environ,
        "EVALBOARD_DATABASE_URL": url,
        "EVALBOARD_HOME": str(home),
        "EVALBOARD_HUB_OFFLINE": "1",
        "EVALBOARD_PORT": str(port),
        "EVALBOARD_RATE_LIMIT": "1000000/minute",
    }
    server: subprocess.Popen[bytes] = start_server(env, port, 1, home / "server.log")
    try:
        samples = measure(f"http://127.0.0.1:{port}", token, args.requests)
    finally:
        stop_server(server)
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    p99 = {name: statistics.quantiles(values, n=100)[98] for name, values in samples.items()}
    added = {name: p50[name] - p50["anonymous"] for name in ("token", "session")}
    print(f"GET {PATH}, {args.requests} requests per caller, interleaved, one keep-alive connection each")
    print(f"{'caller':<10} {'p50 ms':>8} {'p99 ms':>8} {'added p50 ms':>13}")
    for name in samples:
        extra = f"{added[name]:>13.3f}" if name in added else f"{'-':>13}"
        print(f"{name:<10} {p50[name]:>8.3f} {p99[name]:>8.3f} {extra}")
    verdict = "pass" if added["token"] < GOAL_MS else "FAIL"
    print(f"token adds {added['token']:.3f} ms at p50 (goal < {GOAL_MS} ms): {verdict}")
    report = {"path": PATH, "requests": args.requests, "p50_ms": p50, "p99_ms": p99, "added_p50_ms": added,
              "goal_ms": GOAL_MS, "pass": verdict == "pass"}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
