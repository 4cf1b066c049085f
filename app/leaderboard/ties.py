"""When two neighbouring ranks count as tied: the one rule the bootstrap (which computes P) and the
board's payloads (which show it) share, kept free of numpy so the API imports it cheaply."""

from __future__ import annotations

LEVEL = 0.95  # a pair is distinguishable when P(upper really above lower) >= LEVEL


def tied(p: float | None) -> bool | None:
    """One-sided rule: the upper model is above the lower one at 95 % when P >= 0.95; else tied."""
    return None if p is None else p < LEVEL
