"""Request rate limits and sign-in slow-down through the `limits` library: in memory by default, or in
Redis (EVALBOARD_RATE_LIMIT_STORAGE=redis://...) so that several API processes share one count."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import Settings
from app.errors import TooManyRequests


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self._requests: RateLimitItem | None = parse(settings.rate_limit) if settings.rate_limit else None
        self._per_name = parse(settings.signin_failures_per_name)
        self._per_address = parse(settings.signin_failures_per_address)
        self._namespace = "evalboard"

    def count_request(self, key: str) -> None:
        """One API request by this caller; 429 past EVALBOARD_RATE_LIMIT."""
        item = self._requests
        if item is None or self._limiter.hit(item, self._namespace, "req", key):
            return
        retry = self._window_reset(item, "req", key)
        raise TooManyRequests(
            f"rate limit of {item} reached for this caller; wait {retry} s and try again", retry_after=retry
        )

    def _window_reset(self, item: RateLimitItem, *identifiers: str) -> int:
        reset = self._limiter.get_window_stats(item, self._namespace, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))

    def check_signin(self, name: str, address: str) -> None:
        """Before a password is checked: 429 once either budget of wrong passwords is spent."""
        for item, kind, key in ((self._per_name, "name", name), (self._per_address, "addr", address)):
            if not self._limiter.test(item, self._namespace, "signin", kind, key):
                retry = self._window_reset(item, "signin", kind, key)
                raise TooManyRequests(
                    f"too many wrong passwords; wait {retry} s before signing in again", retry_after=retry
                )

    def count_signin_failure(self, name: str, address: str) -> None:
        self._limiter.hit(self._per_name, self._namespace, "signin", "name", name)
        self._limiter.hit(self._per_address, self._namespace, "signin", "addr", address)
