"""What judging will cost, before any judge call: calls, tokens and dollars for a planned batch of
judge requests (each method plans its own: single.estimate_calls, pairwise.estimate_calls,
geval.estimate_calls).

The estimate reads the same requests the run will send, so prompts are counted exactly as built
(answers included); only the reply lengths and the follow-ups are allowances:

- tokens: one rule for every judge, no tokenizer needed: ASCII text counts 4 characters a token,
  every other character (Hangul, CJK, accented letters) one token each, plus MESSAGE_OVERHEAD per
  chat message. Real tokenizers put Korean at 1-2 characters a token, so Korean prompts are
  rather over- than under-counted.
- replies: each method's typical reply (`reply_tokens`: a rationale of two or three sentences and
  the rating line for MT-Bench-style and pairwise grading; the whole cap for G-Eval's score),
  never more than the request's max_tokens after the endpoint's cap; times n where n samples are
  asked for.
- follow-ups: a share of the calls (FOLLOW_UP_SHARE, rounded to whole calls) is expected to be
  asked again for the value alone (follow_up.py): the original prompt, the reply and the question,
  FOLLOW_UP_MAX_TOKENS back. A weak judge (the bundled one) needs far more: its estimate is low.
- the cache: a request the judge cache already holds costs nothing and is counted as a cache hit;
  the same request twice in one batch is sent once (as the client does).

Cost comes from the endpoint's prices (EVALBOARD_JUDGE_PRICE_*); None where none are set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

MESSAGE_OVERHEAD = 4  # role markers and separators of one chat message
FOLLOW_UP_SHARE = 0.05  # replies expected to hold no rating or verdict (a capable judge: a few in 100)
FOLLOW_UP_QUESTION_TOKENS = 40  # the follow-up question, in either language
FOLLOW_UP_MAX_TOKENS = 8  # follow_up.FOLLOW_UP_PARAMS
RULE = "ASCII 4 chars/token, other chars 1 token each, +4 per message"


def text_tokens(text: str) -> int:
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


def message_tokens(messages: Sequence[dict[str, str]]) -> int:
    return sum(text_tokens(str(m.get("content", ""))) + MESSAGE_OVERHEAD for m in messages)


def placeholder_answer(max_gen_toks: int) -> str:
    """An answer of max_gen_toks tokens under the rule: for estimating before the answers exist."""
    return "x" * (4 * max_gen_toks)


@dataclass
class Estimate:
    requests: int = 0  # judge requests planned (repeats included, follow-ups not)
    cache_hits: int = 0  # of those, answered by the judge cache: no call, no cost
    calls: int = 0  # calls expected: requests not in the cache, plus the follow-up allowance
    follow_up_calls: int = 0  # of those calls, the follow-up allowance
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # None: the judge has no prices (a local judge is free)

    def __add__(self, other: Estimate) -> Estimate:
        total = Estimate()
        for item in fields(Estimate):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if item.name == "cost_usd":
                value = None if mine is None and theirs is None else (mine or 0.0) + (theirs or 0.0)
            else:
                value = mine + theirs
            setattr(total, item.name, value)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {**{item.name: getattr(self, item.name) for item in fields(Estimate)}, "token_rule": RULE}

    def describe(self) -> str:
        """'96 judge calls (12 cached requests), 52,300 prompt + 11,520 completion tokens, $0.2456'"""
        cost = "no price set" if self.cost_usd is None else f"${self.cost_usd:.4f}"
        return (
            f"{self.calls} judge calls ({self.cache_hits} cached requests), {self.prompt_tokens:,} prompt + "
            f"{self.completion_tokens:,} completion tokens, {cost}"
        )


def _reply_cap(params: dict[str, Any], endpoint_cap: int | None) -> int | None:
    asked = params.get("max_tokens")
    caps = [c for c in (asked if isinstance(asked, int) else None, endpoint_cap) if c is not None]
    return min(caps) if caps else None


def estimate_requests(
    client: Any, requests: Sequence[Any], *, reply_tokens: int, follow_up_share: float = FOLLOW_UP_SHARE
) -> Estimate:
    """The estimate for sending `requests` (JudgeRequests) through `client` (a JudgeClient: its
    endpoint's model, reply cap and prices, and its cache). Nothing is sent."""
    endpoint = client.endpoint
    keys = [request.key(endpoint.model) for request in requests]
    keyed = dict(zip(keys, requests, strict=True))
    cached = client.cache.get_many(set(keyed)) if client.cache is not None else {}
    estimate = Estimate(requests=len(requests), cache_hits=sum(key in cached for key in keys))
    follow_prompt = follow_completion = 0.0
    for key, request in keyed.items():
        if key in cached:
            continue
        cap = _reply_cap(request.params, endpoint.max_tokens)
        reply = min(reply_tokens, cap) if cap is not None else reply_tokens
        prompt = message_tokens(request.messages)
        estimate.calls += 1
        estimate.prompt_tokens += prompt
        estimate.completion_tokens += reply * int(request.params.get("n") or 1)
        follow_prompt += prompt + reply + FOLLOW_UP_QUESTION_TOKENS + 2 * MESSAGE_OVERHEAD
        follow_completion += FOLLOW_UP_MAX_TOKENS
    estimate.follow_up_calls = math.floor(estimate.calls * follow_up_share + 0.5)  # whole calls, rounded
    if estimate.calls:
        share = estimate.follow_up_calls / estimate.calls  # whole calls, spread over the average prompt
        estimate.prompt_tokens += round(follow_prompt * share)
        estimate.completion_tokens += round(follow_completion * share)
    estimate.calls += estimate.follow_up_calls
    estimate.cost_usd = endpoint.cost(estimate.prompt_tokens, estimate.completion_tokens)
    return estimate
