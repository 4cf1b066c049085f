"""What a generation is once lm-eval has filtered it: light, for the task hooks under tasks/ and the
`evalboard score` command as well as the harness's scoring."""

from __future__ import annotations

from typing import Any


def response_text(raw: Any) -> str:
    """The generation as scored: lm-eval's first filtered response, stripped."""
    while isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    return str(raw).strip()
