"""The judge's prompt files (evaluators/judge/prompts/<name>.json, Korean and English, each with
a `version`), read once per process. A prompt's version is part of the judge cache key."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).with_name("prompts")


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PROMPTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def version_label(name: str, *parts: str) -> str:
    """'geval-coherence-ko@1': what the prompt is and which text of it."""
    return "-".join((name, *parts)) + f"@{load(name)['version']}"
