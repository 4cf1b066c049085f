"""Lenient exact match for the evalboard smoke short-answer task.

lm-eval's built-in ``exact_match`` compares against a single reference and
its ``ignore_punctuation`` only strips ASCII punctuation.  Instruct models
rarely answer with the bare string: they say "Paris.", "The answer is Paris",
"The capital of France is Paris." or "서울입니다".  So, after normalization
(NFKC, lowercase, Unicode punctuation removed, Hangul kept), a prediction is
correct when it equals the answer or one of its aliases, or *starts or ends*
with one of them as a whole word.  A Korean particle/copula may follow the
answer ("서울입니다", "파리는"), since Korean attaches those without a space.
Deliberately simple: no fuzzy matching, and an answer in the middle of a
sentence does not count.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Leading phrases stripped from predictions (already normalized; longest first).
_PREFIXES = ("the correct answer is", "the answer is", "answer", "정답은", "정답", "답은", "답")
_ARTICLES = ("the", "a", "an")
# Korean particles/copula endings allowed right after the answer: "서울입니다", "파리는".
_KO_SUFFIXES = frozenset({"입니다", "이다", "이에요", "예요", "이야", "야", "요", "은", "는", "이", "가"})


def normalize(text: str) -> str:
    """NFKC, lowercase, Unicode punctuation -> space, collapse spaces; keeps Hangul."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(text.split())


def _strip_lead(pred: str) -> str:
    for prefix in _PREFIXES:
        if pred == prefix or pred.startswith(prefix + " "):
            pred = pred[len(prefix) :].lstrip()
            break
    head, _, rest = pred.partition(" ")
    return rest if head in _ARTICLES and rest else pred


def _starts_with_word(text: str, target: str) -> bool:
    """``text`` begins with ``target`` as a whole word (a Korean particle may follow)."""
    if not target or not text.startswith(target):
        return False
    rest = text[len(target) :]
    return rest == "" or rest.startswith(" ") or rest.split(" ", 1)[0] in _KO_SUFFIXES


def _matches(pred: str, target: str) -> bool:
    tail = " ".join(pred.split(" ")[-len(target.split(" ")) :])  # as many final words as the target has
    return _starts_with_word(pred, target) or _starts_with_word(tail, target)


def is_correct(prediction: str, targets: list[str]) -> bool:
    pred = _strip_lead(normalize(prediction))
    return any(_matches(pred, normalize(t)) for t in targets)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval hook: ``results`` holds the single (filtered) generation."""
    targets = [doc["answer"], *doc.get("aliases", [])]
    return {"exact_match": float(is_correct(results[0], targets))}
