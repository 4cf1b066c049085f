"""Rendered board views (API pages and HTML pages), kept per process while the board is unchanged.

A view is a pure function of its URL, its language and the board's rows; the rows change only when
a request finishes (one transaction that also bumps board_version). So a rendering cached under
the version it was drawn from is exact, never stale: each request reads the version (one indexed
single-row query) and re-renders only when it moved. Misses still run the keyset SQL; this only
spares re-serializing the same 50 rows for every visitor of a popular view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_VIEWS = 512


class ViewCache:
    def __init__(self, max_views: int = MAX_VIEWS) -> None:
        self._views: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()  # sync endpoints run on a thread pool
        self._max = max_views
        self.hits = 0
        self.misses = 0

    def get(self, version: int, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._views.get(key)
            if found is None or found[0] != version:
                self.misses += 1
                return None
            self._views.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, version: int, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._views[key] = (version, body)
            self._views.move_to_end(key)
            while len(self._views) > self._max:
                self._views.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._views.clear()
