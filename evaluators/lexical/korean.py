"""Korean morphemes for overlap metrics.

rouge-score's default tokenizer keeps only [a-z0-9] and so turns every Hangul sentence into
nothing (every Korean pair scores 0). Splitting on spaces instead is not right either: Korean
attaches particles and endings to words (서울은, 서울의, 서울에서), so whole words rarely match.
Kiwi's morphemes split those apart: 서울/은, 수도/이/다.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache
from importlib.metadata import version
from typing import Any

# Kiwi tags for punctuation and symbols (sentence-final marks, commas, brackets, other signs):
# dropped, as rouge-score's own tokenizer drops punctuation. Latin words (SL), numbers (SN) and
# hanja (SH) are kept.
DROPPED_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW"})
_lock = threading.Lock()


@cache
def _kiwi() -> Any:
    from kiwipiepy import Kiwi

    return Kiwi()  # ~0.7 s and ~100 MB: built once per process


def tokenizer_label() -> str:
    return f"kiwi-morphemes (kiwipiepy {version('kiwipiepy')})"


def morphemes(text: str) -> list[str]:
    """Morpheme forms, punctuation dropped, Latin letters lower-cased."""
    return list(_morphemes(text))


# Cached: rouge-score tokenizes a text once for ROUGE-1/2/L and again line by line for ROUGE-Lsum
# (a one-sentence text is its own line), and references repeat across a corpus.
@lru_cache(maxsize=65536)
def _morphemes(text: str) -> tuple[str, ...]:
    with _lock:  # Kiwi's analysis is not documented as thread-safe; the API scores from a pool
        tokens = _kiwi().tokenize(text)
    return tuple(token.form.lower() for token in tokens if token.tag not in DROPPED_TAGS)


@lru_cache(maxsize=65536)
def _sentences(text: str) -> tuple[str, ...]:
    with _lock:
        return tuple(sentence.text for sentence in _kiwi().split_into_sents(text))


def sentences(text: str) -> list[str]:
    return list(_sentences(text))


class MorphemeTokenizer:
    """rouge-score's tokenizer interface (an object with tokenize(text) -> list of tokens)."""

    def tokenize(self, text: str) -> list[str]:
        return morphemes(text)
