"""Real processes for end-to-end tests: the `evalboard` CLI started as users start it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from tests.conftest import settings_env
from tests.support.ports import free_port

EVALBOARD = [sys.executable, "-m", "app.cli"]


class Proc:
    def __init__(self, args: list[str], settings: Settings, log_path: Path, **env: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            EVALBOARD + args,
            env={**settings_env(settings), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def stop(self, timeout: float = 30) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._log.close()
        return self.popen.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped running, which is what the tests care about.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_healthy(base_url: str, proc: Proc, timeout: float = 60) -> None:
    def healthy() -> bool:
        if proc.popen.poll() is not None:
            raise AssertionError(f"server exited with {proc.popen.returncode}:\n{proc.log()}")
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout, f"{base_url}/healthz")


def request_status(base_url: str, request_id: int) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/api/v1/requests/{request_id}", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def start_server(settings: Settings, home: Path, procs: list[Proc], *extra: str) -> tuple[str, Proc]:
    """`evalboard serve` on a free loopback port, registered for clean-up, once it answers."""
    port = free_port()
    server = Proc(["serve", "--port", str(port), *extra], settings, home / f"serve-{port}.log")
    procs.append(server)
    base_url = f"http://127.0.0.1:{port}"
    wait_healthy(base_url, server)
    return base_url, server
