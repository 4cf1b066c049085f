"""How an idle worker waits for work: LISTEN/NOTIFY on PostgreSQL, plain polling elsewhere.

Polling stays as the fallback even with LISTEN: a notification sent while the listener was
reconnecting is lost, and jobs whose backoff expires produce no notification at all.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from app.queue.jobs import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class Waiter(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block up to timeout seconds; True if woken by a notification."""

    def close(self) -> None: ...


class PollingWaiter:
    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def close(self) -> None:
        return None


class PostgresWaiter:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._conn: Any = None  # psycopg.Connection, imported lazily
        self._connect()

    def _connect(self) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(self._conninfo, autocommit=True)
            self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except psycopg.Error as exc:
            log.warning("LISTEN unavailable, polling instead: %s", exc)
            self._conn = None

    def wait(self, timeout: float) -> bool:
        if self._conn is None or self._conn.closed:
            self._connect()
            if self._conn is None:
                time.sleep(timeout)
                return False
        try:
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
        except Exception as exc:  # connection dropped: fall back to polling until it reconnects
            log.warning("LISTEN connection lost: %s", exc)
            self.close()
        return False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def waiter_for(database_url: str) -> Waiter:
    if database_url.startswith("postgresql"):
        return PostgresWaiter(database_url)
    return PollingWaiter()
