"""A small per-process cache of token lookups, so a request with a token costs no database round trip
(the bench's goal: < 1 ms per request). Entries live auth_cache_seconds; revoking or disabling in this
process clears it at once, in other processes within that time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from app.auth.principal import Principal

MAX_ENTRIES = 10_000


@dataclass
class CachedLookup:
    principal: Principal | None  # None: the token is unknown, revoked or expired
    problem: str | None  # why it was refused
    expires_at: float  # monotonic


_entries: dict[str, CachedLookup] = {}
_lock = threading.Lock()


def get(token_hash: str) -> CachedLookup | None:
    entry = _entries.get(token_hash)
    if entry is None or entry.expires_at < time.monotonic():
        return None
    return entry


def put(token_hash: str, entry: CachedLookup) -> None:
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()  # garbage tokens cannot grow memory without bound
        _entries[token_hash] = entry


def clear() -> None:
    with _lock:
        _entries.clear()
