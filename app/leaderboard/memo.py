"""Small figures derived from the board, kept per process under the board version they were read at.

A view's row count for its filters, the board sizes and the judged columns' judges each cost a query
over the board, yet change only when the board does (board_version moves in the same transaction as
every change). Kept under that version they are exact: a stale one can never be served, and unlike
the view cache (an option) this is always on, since it holds numbers, not pages.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_ITEMS = 4096
# Drawn charts (the board page's score-vs-size SVG, about 40 KB each) are kept apart, far fewer.
CHART_MEMO_ITEMS = 64


class BoardMemo:
    def __init__(self, max_items: int = MAX_ITEMS) -> None:
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()  # sync endpoints run on a thread pool
        self._max = max_items

    def get(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] == version:
                self._items.move_to_end(key)
                return found[1]
        value = compute()  # outside the lock: two threads may both compute; both are right
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value

    def at(self, session: Session) -> BoundMemo:
        return BoundMemo(self, session)


class BoundMemo:
    """The memo for one request: reads the board version once, when first needed."""

    def __init__(self, memo: BoardMemo | None, session: Session) -> None:
        self._memo = memo
        self._session = session
        self._version: int | None = None

    @property
    def version(self) -> int:
        if self._version is None:
            from app.leaderboard.entries import board_version

            self._version = board_version(self._session)
        return self._version

    def alongside(self, memo: BoardMemo | None) -> BoundMemo:
        """Another memo read under this request's board version (read once for both)."""
        bound = BoundMemo(memo, self._session)
        bound._version = self._version
        return bound

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self._memo is None:
            return compute()
        return self._memo.get(self.version, key, compute)
