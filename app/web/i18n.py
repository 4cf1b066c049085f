"""Korean and English pages: message catalogs (app/web/messages/<lang>/*.json, one file per page
area, merged; a key defined twice is an error) and the choice of
language. Korean is the default; `?lang=` (remembered in a cookie) beats the cookie, which beats the
browser's Accept-Language."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((MESSAGES_DIR / lang).glob("*.json")):
        part: dict[str, str] = json.loads(path.read_text("utf-8"))
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"{path}: keys already defined in another catalog file: {sorted(twice)}")
        merged.update(part)
    return merged


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def pick_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE


class Translator:
    """`t("board.average")` in templates; a key missing in one catalog falls back to Korean's."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        text = catalog(self.lang).get(key) or catalog(DEFAULT_LANGUAGE)[key]
        return text.format(**values) if values else text

    def pick(self, ko: str, en: str) -> str:
        """For texts that live in the catalog of benchmarks, not here (suite titles, names)."""
        return ko if self.lang == "ko" else en
