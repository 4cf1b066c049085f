"""Progress inside an lm-eval run, read from the progress bars lm-eval already draws.

lm-eval offers no progress callback. Its HF backend draws one tqdm bar per request type
("Running loglikelihood requests", "Running generate_until requests") on sys.stderr. Wrapping
sys.stderr lets us follow those bars without patching lm-eval or changing how it batches, so the
numbers stay identical to the lm_eval CLI's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

BAR = re.compile(r"Running (\w+) requests:\s+(\d+)%")


class BarWatcher:
    """A write-through stderr wrapper that reports (request_type, fraction) as bars advance."""

    def __init__(self, inner: TextIO, on_bar: Callable[[str, float], None]) -> None:
        self._inner = inner
        self._on_bar = on_bar
        self._last: tuple[str, int] | None = None

    def write(self, text: str) -> int:
        for match in BAR.finditer(text):
            state = (match.group(1), int(match.group(2)))
            if state != self._last:
                self._last = state
                self._on_bar(state[0], state[1] / 100)
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding ... as the real stream
        return getattr(self._inner, name)


@contextmanager
def watch_bars(on_bar: Callable[[str, float], None]) -> Iterator[None]:
    original = sys.stderr
    sys.stderr = BarWatcher(original, on_bar)
    try:
        yield
    finally:
        sys.stderr = original
