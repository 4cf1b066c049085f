"""G-Eval (Liu et al., 2023): form-filling with evaluation steps, scored as the probability-weighted
mean of the allowed scores, sum over s of p(s) * s, where p comes from the judge's top log-probabilities
at the score token (renormalised over the allowed scores found there). Where the endpoint returns no
log-probabilities, n samples are drawn and their parsed scores averaged. Replies with no score
in them are counted and reported, never guessed.

Prompts: prompts/geval.json (Korean and English, versioned; the version is part of the cache key).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluators.base import CorpusScore, mean_score
from evaluators.judge import prompt_store
from evaluators.judge.client import JudgeReply, JudgeRequest
from evaluators.judge.estimate import Estimate, estimate_requests

CRITERIA = ("coherence", "consistency", "fluency", "relevance")
SCORE_IN_TEXT = re.compile(r"(?<![\d.])(\d+)(?![\d.])")
REPLY_TOKENS = 5  # the score alone: the requests' whole max_tokens, per sample


def prompts() -> dict[str, Any]:
    return prompt_store.load("geval")


def prompt_version(criterion: str, lang: str) -> str:
    return prompt_store.version_label("geval", criterion, lang)


def allowed_scores(criterion: str) -> list[int]:
    return list(prompts()["criteria"][criterion]["scores"])


def build_request(
    criterion: str, lang: str, source: str, output: str, *, use_logprobs: bool = True, samples: int = 20
) -> JudgeRequest:
    """One judge request. With log-probabilities: one greedy token's alternatives (top 20, the
    OpenAI maximum). Without: `samples` completions at temperature 1 (the paper used n=20)."""
    spec = prompts()["criteria"][criterion][lang]
    content = prompts()["template"][lang].format(
        criterion=spec["criterion"], steps=spec["steps"], source=source, output=output, name=criterion
    )
    params: dict[str, Any] = (
        {"temperature": 0, "max_tokens": 5, "logprobs": True, "top_logprobs": 20}
        if use_logprobs
        else {"temperature": 1.0, "max_tokens": 5, "n": samples}
    )
    return JudgeRequest([{"role": "user", "content": content}], prompt_version(criterion, lang), params)


@dataclass
class GEvalScore:
    value: float | None  # None: no score in the reply
    method: str  # "logprobs" | "samples" | "unparseable" | "failed"
    parsed_samples: int = 0
    unparseable_samples: int = 0
    reply: str = ""  # the judge's first reply (or why there is none): shown beside the score


def parse_score(text: str, allowed: Sequence[int]) -> int | None:
    """The first whole number in the reply, if it is an allowed score ("4", "4점", "Score: 4/5")."""
    match = SCORE_IN_TEXT.search(text or "")
    if match is None:
        return None
    value = int(match.group(1))
    return value if value in allowed else None


def score_from_logprobs(top_logprobs: Sequence[dict[str, float]], allowed: Sequence[int]) -> float | None:
    """sum p(s) * s at the first token position whose alternatives include an allowed score,
    p renormalised over the allowed scores present there."""
    for alternatives in top_logprobs:
        weights = {int(t.strip()): math.exp(lp) for t, lp in alternatives.items() if t.strip().isdigit()
                   and int(t.strip()) in allowed}  # fmt: skip
        total = sum(weights.values())
        if weights and total > 0:
            return sum(score * p for score, p in weights.items()) / total
    return None


def score_reply(reply: JudgeReply, allowed: Sequence[int]) -> GEvalScore:
    if not reply.ok:
        return GEvalScore(None, "failed", reply=f"judge call failed: {reply.error}")
    text = reply.texts[0] if reply.texts else ""
    if reply.top_logprobs:
        value = score_from_logprobs(reply.top_logprobs, allowed)
        if value is not None:
            return GEvalScore(value, "logprobs", parsed_samples=1, reply=text)
    parsed = [parse_score(text, allowed) for text in reply.texts]
    scores = [p for p in parsed if p is not None]
    unparseable = len(parsed) - len(scores)
    if not scores:
        return GEvalScore(None, "unparseable", unparseable_samples=unparseable, reply=text)
    return GEvalScore(sum(scores) / len(scores), "samples", len(scores), unparseable, reply=text)


@dataclass
class GEvalResult:
    criterion: str
    lang: str
    prompt_version: str
    scores: list[GEvalScore] = field(default_factory=list)

    @property
    def unparseable(self) -> int:
        return sum(score.value is None for score in self.scores)

    def corpus(self) -> CorpusScore | None:
        """Mean over the items that got a score, with its standard error; unscored items are
        reported (unparseable), not counted as any score."""
        values = [score.value for score in self.scores if score.value is not None]
        return mean_score(values) if values else None


def run_geval(
    client: Any,
    criterion: str,
    lang: str,
    sources: Sequence[str],
    outputs: Sequence[str],
    *,
    use_logprobs: bool = True,
    samples: int = 20,
) -> GEvalResult:
    """Judge every (source, output) pair on one criterion through a JudgeClient."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown G-Eval criterion {criterion!r}: use one of {', '.join(CRITERIA)}")
    requests = [
        build_request(criterion, lang, source, output, use_logprobs=use_logprobs, samples=samples)
        for source, output in zip(sources, outputs, strict=True)
    ]
    allowed = allowed_scores(criterion)
    result = GEvalResult(criterion, lang, prompt_version(criterion, lang))
    result.scores = [score_reply(reply, allowed) for reply in client.judge(requests)]
    return result


def estimate_calls(
    client: Any, criterion: str, lang: str, sources: Sequence[str], outputs: Sequence[str], *,
    use_logprobs: bool = True, samples: int = 20,
) -> Estimate:  # fmt: skip
    """What run_geval with these arguments will cost (estimate.py); nothing is sent. G-Eval asks
    no follow-ups: a reply with no score is reported, not asked again."""
    requests = [
        build_request(criterion, lang, source, output, use_logprobs=use_logprobs, samples=samples)
        for source, output in zip(sources, outputs, strict=True)
    ]
    return estimate_requests(client, requests, reply_tokens=REPLY_TOKENS, follow_up_share=0.0)


# --- every criterion at once (generation suites, POST /api/v1/judge) ------------------------------


def normalized(criterion: str, value: float) -> float:
    """A criterion's score on 0..1, as evalboard stores scores: (s - lowest) / (highest - lowest)
    of its allowed scores (coherence 3.5 of 1-5 -> 0.625; fluency's scale is 1-3)."""
    allowed = allowed_scores(criterion)
    return (value - min(allowed)) / (max(allowed) - min(allowed))


def plan_criteria(
    lang: str, sources: Sequence[str], outputs: Sequence[str], *, use_logprobs: bool = True,
    samples: int = 20, criteria: Sequence[str] = CRITERIA,
) -> list[JudgeRequest]:  # fmt: skip
    """Every request run_criteria sends, criterion by criterion (all items of the first, then ...)."""
    return [
        build_request(criterion, lang, source, output, use_logprobs=use_logprobs, samples=samples)
        for criterion in criteria
        for source, output in zip(sources, outputs, strict=True)
    ]


def run_criteria(
    client: Any, lang: str, sources: Sequence[str], outputs: Sequence[str], *, use_logprobs: bool = True,
    samples: int = 20, criteria: Sequence[str] = CRITERIA,
) -> dict[str, GEvalResult]:  # fmt: skip
    """Every criterion of every (source, output) pair in one batch through a JudgeClient, so its
    concurrency spans them all (a local judge generates them in shared batches)."""
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown:
        raise ValueError(f"unknown G-Eval criterion {unknown[0]!r}: use one of {', '.join(CRITERIA)}")
    requests = plan_criteria(lang, sources, outputs, use_logprobs=use_logprobs, samples=samples,
                             criteria=criteria)  # fmt: skip
    replies = client.judge(requests)
    results: dict[str, GEvalResult] = {}
    for position, criterion in enumerate(criteria):
        allowed = allowed_scores(criterion)
        mine = replies[position * len(sources) : (position + 1) * len(sources)]
        result = GEvalResult(criterion, lang, prompt_version(criterion, lang))
        result.scores = [score_reply(reply, allowed) for reply in mine]
        results[criterion] = result
    return results


def estimate_criteria(
    client: Any, lang: str, sources: Sequence[str], outputs: Sequence[str], *, use_logprobs: bool = True,
    samples: int = 20, criteria: Sequence[str] = CRITERIA,
) -> Estimate:  # fmt: skip
    """What run_criteria with these arguments will cost (estimate.py); nothing is sent."""
    requests = plan_criteria(lang, sources, outputs, use_logprobs=use_logprobs, samples=samples,
                             criteria=criteria)  # fmt: skip
    return estimate_requests(client, requests, reply_tokens=REPLY_TOKENS, follow_up_share=0.0)
