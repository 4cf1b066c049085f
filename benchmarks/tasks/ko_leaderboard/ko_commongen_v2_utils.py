"""Prompt helpers for evalboard_ko_commongen_v2 (KoCommonGEN v2 schema).

The real dataset's option fields are named "1".."4", which Jinja cannot address, hence functions.
`gold` is 1-based, as in the real dataset; the YAML turns it into a 0-based index. The prompt is the
leaderboard's: the concept words in braces, the numbered options, then "정답:"; each choice is the
option's number and sentence, so the model is scored on both (the leaderboard's "AI Harness" way).
"""

from __future__ import annotations

from typing import Any

OPTION_KEYS = ("1", "2", "3", "4")


def doc_to_text(doc: dict[str, Any]) -> str:
    concepts = ", ".join(word.strip() for word in doc["concept_set"].split("#") if word.strip())
    options = "\n".join(doc_to_choice(doc))
    return f"concept set: {{{concepts}}}\n{options}\n정답:"


def doc_to_choice(doc: dict[str, Any]) -> list[str]:
    return [f"{key}. {doc[key]}" for key in OPTION_KEYS]
