"""Asking again when a judge's reply holds no rating or verdict.

Small or chatty judges often explain and never write the [[...]] line. Rather than drop the item,
the judge's own reply stays in the conversation and it is asked for the rating (or verdict)
alone, greedily, with log-probabilities where the endpoint gives them. From the log-probabilities
the answer is read G-Eval style: the probability-weighted rating, or the likelier verdict; else
from the text. Only replies with nothing in them are asked again (one short call each), and every
grade records where its value came from, so a board can tell a stated rating from a recovered one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from evaluators.judge.client import JudgeReply, JudgeRequest
from evaluators.judge.geval import score_from_logprobs

FOLLOW_UP_PARAMS = {"temperature": 0, "max_tokens": 8}
LOGPROB_PARAMS = {"logprobs": True, "top_logprobs": 20}
BARE_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])")
BARE_VERDICT = re.compile(r"^\W*(A|B|[Tt][Ii][Ee])\b")  # at the start: "a" is also an English word
VERDICT_TOKENS = {"A": "A", "B": "B", "TIE": "TIE", "T": "TIE"}


def follow_up(original: JudgeRequest, reply_text: str, question: str, *, use_logprobs: bool) -> JudgeRequest:
    messages = [
        *original.messages,
        {"role": "assistant", "content": reply_text},
        {"role": "user", "content": question},
    ]
    params = {**FOLLOW_UP_PARAMS, **(LOGPROB_PARAMS if use_logprobs else {})}
    return JudgeRequest(messages, original.prompt_version + "+follow-up", params)


def rating_from(reply: JudgeReply, allowed: Sequence[int]) -> tuple[float | None, str]:
    """(rating, how it was read) from a follow-up reply: 'follow-up logprobs' or 'follow-up text'."""
    if not reply.ok:
        return None, "follow-up failed"
    if reply.top_logprobs:
        value = score_from_logprobs(reply.top_logprobs, allowed)
        if value is not None:
            return value, "follow-up logprobs"
    match = BARE_NUMBER.search(reply.texts[0] if reply.texts else "")
    if match and float(match.group(1)) in allowed:
        return float(match.group(1)), "follow-up text"
    return None, "unparseable"


def verdict_from(reply: JudgeReply) -> tuple[str | None, str]:
    """(A | B | TIE, how it was read) from a follow-up reply."""
    if not reply.ok:
        return None, "follow-up failed"
    for alternatives in reply.top_logprobs or ():
        weights: dict[str, float] = {}
        for token, logprob in alternatives.items():
            verdict = VERDICT_TOKENS.get(token.strip().upper())
            if verdict is not None:
                weights[verdict] = weights.get(verdict, 0.0) + math.exp(logprob)
        if weights:
            return max(sorted(weights), key=lambda v: weights[v]), "follow-up logprobs"
    match = BARE_VERDICT.search(reply.texts[0] if reply.texts else "")
    if match:
        return match.group(1).upper(), "follow-up text"
    return None, "unparseable"
