"""Grading each item more than once (EVALBOARD_JUDGE_REPEATS) to see how stable the judge is.

With one repeat the judge is asked greedily (temperature 0), as before. With N > 1 each item is
asked N times at REPEAT_TEMPERATURE, repeat r with seed r: identical greedy requests would only
return the same reply (and hit the judge cache), while sampled ones show how much the judge's
verdict moves. The seed makes the repeat index part of the request, so part of its cache key: a
re-run finds each repeat's own reply, never another repeat's.

The item's value is the median of the repeats that gave one; the spread is their mean absolute
deviation from that median (0: every repeat agreed), in the value's own units.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

REPEAT_TEMPERATURE = 0.7
MAX_REPEATS = 10


def repeat_params(params: dict[str, Any], repeat: int, repeats: int) -> dict[str, Any]:
    """The sampling parameters of repeat `repeat` (0-based) of `repeats`."""
    if repeats <= 1:
        return dict(params)
    return {**params, "temperature": REPEAT_TEMPERATURE, "seed": repeat}


def median_and_spread(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """(median, mean absolute deviation from it) of the values that are not None; (None, None)
    when none is."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None, None
    middle = float(statistics.median(present))
    return middle, sum(abs(v - middle) for v in present) / len(present)


def mean_spread(spreads: Sequence[float | None]) -> float | None:
    present = [s for s in spreads if s is not None]
    return sum(present) / len(present) if present else None
