"""lm-eval side of the gen-ko tasks. lm-eval only generates here: the ROUGE / BLEU / chrF /
BERTScore scores are computed afterwards from the logged generations by evalboard's evaluators
(harness/generation_scoring.py), the same code `evalboard score` and POST /api/v1/score run,
so a corpus metric gets its bootstrap stderr and BERTScore is batched over the whole task.

The one metric lm-eval itself records is the response length in characters: a cheap signal of
a model that rambles or answers nothing.
"""

from __future__ import annotations

from typing import Any

from benchmarks.responses import response_text


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    return {"response_chars": float(len(response_text(results)))}
