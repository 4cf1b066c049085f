"""Message catalogs and the choice of page language."""

from __future__ import annotations

import re
from pathlib import Path

from app.leaderboard.query import KINDS, SIZE_PRESETS
from app.runs.queue_view import QUEUE_STATUSES
from app.web.i18n import LANGUAGES, Translator, catalog, from_accept_language, pick_language

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_both_catalogs_have_the_same_keys_and_every_key_used_exists() -> None:
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    assert keys["ko"] == keys["en"]
    used = {
        key
        for path in TEMPLATES.glob("*.html")
        for key in re.findall(r"""\bt\(["']([\w.]+)["']""", path.read_text())
    }
    # t("kind." ~ row.kind): a key built in the template; its prefix must name some keys, and the
    # values it is built from are checked one by one below.
    built = {key for key in used if key.endswith((".", "_"))}
    assert used - built and (used - built) <= keys["ko"], (used - built) - keys["ko"]
    assert all(any(k.startswith(prefix) for k in keys["ko"]) for prefix in built), built
    assert {f"kind.{kind}" for kind in KINDS} | {f"size.{p}" for p in SIZE_PRESETS} <= keys["ko"]
    assert {f"queue.{status.lower()}" for status in QUEUE_STATUSES} <= keys["ko"]
    assert all(catalog("ko")[key] != catalog("en")[key] for key in ("board.average", "submit.title"))


def test_accept_language_quality_values_pick_the_preferred_supported_language() -> None:
    assert from_accept_language("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert from_accept_language("ko-KR,ko;q=0.9,en;q=0.8") == "ko"
    assert from_accept_language("fr-CH, fr;q=0.9, en;q=0.7, ko;q=0.8") == "ko"
    assert from_accept_language("de, ja") is None and from_accept_language(None) is None
    assert from_accept_language("en;q=0, ko;q=bad") is None  # refused and malformed entries


def test_query_beats_cookie_beats_header_and_korean_is_the_default() -> None:
    assert pick_language("en", "ko", "ko") == "en"
    assert pick_language(None, "en", "ko") == "en"
    assert pick_language("xx", None, "en") == "en"
    assert pick_language(None, None, None) == "ko"
    t = Translator("en")
    assert t("board.unknown_suite", suite="'x'") == "unknown suite 'x'"
    assert t.pick("한국어", "English") == "English" and Translator("ko").pick("한국어", "English") == "한국어"
