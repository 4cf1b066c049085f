"""Where judge replies are kept between runs. The client needs only these two calls; the service
keeps them in its database (app/judging/cache_store.py), tests may keep them in memory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class ResponseCache(Protocol):
    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def put_many(self, rows: Sequence[CachedReply]) -> None:
        """Keep these replies; a key already kept stays as it is (rows are never updated)."""
        ...


@dataclass(frozen=True)
class CachedReply:
    key: str
    judge_model: str
    prompt_version: str
    request: dict[str, Any]
    response: dict[str, Any]


def request_key(judge_model: str, prompt_version: str, messages: Any, params: dict[str, Any]) -> str:
    """The cache key: everything that decides the judge's reply. A new prompt version, another
    judge model or other sampling parameters are other keys, never a stale hit."""
    document = {
        "model": judge_model,
        "prompt_version": prompt_version,
        "messages": messages,
        "params": params,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class MemoryCache:
    """A ResponseCache in a dict (tests, one-off runs)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {key: self.rows[key] for key in keys if key in self.rows}

    def put_many(self, rows: Sequence[CachedReply]) -> None:
        for row in rows:
            self.rows.setdefault(row.key, row.response)
