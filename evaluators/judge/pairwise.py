"""AlpacaEval-style pairwise judging: the model's answer against a reference model's answer to
the same instruction, asked in both orders (judges favour a position). An item is a win only if
the model's answer wins in both orders, a loss only if it loses in both; anything else (the
orders disagree, or a tie in either) is a tie, worth 1/2. A reply with no verdict leaves its item
unjudged: counted and reported, not scored.

Win rate: the mean outcome with its standard error. Length-controlled win rate (after Dubois et
al., 2024, simplified to one covariate): judges also favour longer answers, so a logistic
regression of the outcome on the (tanh-squashed, standardised) length difference is fitted and
its prediction at zero difference is reported. Lengths are in characters (Hangul-fair).

Repeats (repeats.py): with repeats > 1 each item is judged that many times in both orders,
sampled; its outcome is the median of the repeats' outcomes, with their spread. estimate_calls
says what judging will cost (estimate.py) from the very requests run_pairwise sends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from evaluators.base import CorpusScore, mean_score
from evaluators.judge import prompt_store
from evaluators.judge.client import JudgeReply, JudgeRequest
from evaluators.judge.estimate import Estimate, estimate_requests
from evaluators.judge.follow_up import follow_up, verdict_from
from evaluators.judge.repeats import mean_spread, median_and_spread, repeat_params

VERDICT = re.compile(r"\[\[\s*(A|B|TIE)\s*\]\]", re.IGNORECASE)
WIN, TIE, LOSS = 1.0, 0.5, 0.0
REPLY_TOKENS = 120  # a typical reply: a short comparison and the verdict line


def prompt_version(lang: str) -> str:
    return prompt_store.version_label("pairwise", lang)


def build_request(lang: str, instruction: str, a: str, b: str) -> JudgeRequest:
    content = prompt_store.load("pairwise")["template"][lang].format(instruction=instruction, a=a, b=b)
    return JudgeRequest(
        [{"role": "user", "content": content}], prompt_version(lang), {"temperature": 0, "max_tokens": 256}
    )


def plan_requests(
    lang: str,
    instructions: Sequence[str],
    outputs: Sequence[str],
    references: Sequence[str],
    repeats: int = 1,
) -> list[JudgeRequest]:
    """Every request run_pairwise sends first: per item, per repeat, the model's answer as A then as B."""
    requests = []
    for instruction, output, reference in zip(instructions, outputs, references, strict=True):
        for repeat in range(repeats):
            for a, b in ((output, reference), (reference, output)):
                request = build_request(lang, instruction, a, b)
                requests.append(replace(request, params=repeat_params(request.params, repeat, repeats)))
    return requests


def estimate_calls(
    client: Any, lang: str, instructions: Sequence[str], outputs: Sequence[str], references: Sequence[str],
    *, repeats: int = 1,
) -> Estimate:  # fmt: skip
    """What run_pairwise with these arguments will cost (estimate.py); nothing is sent."""
    requests = plan_requests(lang, instructions, outputs, references, repeats)
    return estimate_requests(client, requests, reply_tokens=REPLY_TOKENS)


def parse_verdict(text: str) -> str | None:
    """The last [[A]] / [[B]] / [[TIE]] in the reply (the form asks for it on the last line)."""
    found = VERDICT.findall(text or "")
    return found[-1].upper() if found else None


def outcome(model_first: str | None, model_second: str | None) -> float | None:
    """The model's answer was A in the first order and B in the second."""
    if model_first is None or model_second is None:
        return None
    first = {"A": WIN, "B": LOSS, "TIE": TIE}[model_first]
    second = {"B": WIN, "A": LOSS, "TIE": TIE}[model_second]
    return first if first == second and first != TIE else TIE


def length_controlled_win_rate(
    outcomes: Sequence[float], length_differences: Sequence[float]
) -> float | None:
    """sigmoid(intercept) of a logistic regression outcome ~ intercept + slope * tanh(d / sd(d)),
    fitted by Newton's method (ties as 1/2: the likelihood takes fractional outcomes). None with
    fewer than 2 items; the plain win rate when every length difference is the same."""
    y = np.asarray(outcomes, dtype=float)
    d = np.asarray(length_differences, dtype=float)
    if len(y) < 2:
        return None
    scale = d.std()
    if scale == 0:
        return float(y.mean())
    x = np.column_stack([np.ones_like(d), np.tanh(d / scale)])
    beta = np.zeros(2)
    ridge = 1e-6 * np.eye(2)  # keeps the Newton step defined when the data separate perfectly
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ beta)))
        gradient = x.T @ (y - p) - ridge @ beta
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + ridge
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(1 / (1 + math.exp(-beta[0])))


@dataclass
class PairwiseResult:
    lang: str
    prompt_version: str
    outcomes: list[float | None] = field(default_factory=list)  # per item; None: unjudged
    length_differences: list[float] = field(default_factory=list)  # model minus reference, chars
    rationales: list[tuple[str, str]] = field(default_factory=list)  # the judge's two replies per item
    verdicts: list[tuple[str | None, str | None]] = field(default_factory=list)  # model first, model second
    recovered: int = 0  # verdicts read from a follow-up, not from the first reply
    repeats: int = 1
    repeat_outcomes: list[list[float | None]] = field(default_factory=list)  # per item, per repeat (> 1)
    spreads: list[float | None] = field(default_factory=list)  # per item: mean absolute deviation

    def spread(self) -> float | None:
        return mean_spread(self.spreads)

    @property
    def unjudged(self) -> int:
        return sum(o is None for o in self.outcomes)

    def win_rate(self) -> CorpusScore | None:
        judged = [o for o in self.outcomes if o is not None]
        return mean_score(judged) if judged else None

    def length_controlled(self) -> float | None:
        pairs = [(o, d) for o, d in zip(self.outcomes, self.length_differences, strict=True) if o is not None]
        return length_controlled_win_rate([o for o, _ in pairs], [d for _, d in pairs]) if pairs else None


def _text(reply: JudgeReply) -> str:
    return reply.texts[0] if reply.ok and reply.texts else ""


def run_pairwise(
    client: Any,
    lang: str,
    instructions: Sequence[str],
    outputs: Sequence[str],
    references: Sequence[str],
    *,
    use_logprobs: bool = True,
    ask_again: bool = True,
    repeats: int = 1,
) -> PairwiseResult:
    """Judge each output against its reference in both orders through a JudgeClient, `repeats`
    times. Replies with no verdict are asked once more for the letter alone (follow_up.py) unless
    `ask_again` is off. The first repeat's verdicts and replies are the item's rationale."""
    requests = plan_requests(lang, instructions, outputs, references, repeats)
    replies = client.judge(requests)
    texts = [_text(reply) for reply in replies]
    verdicts = [parse_verdict(text) for text in texts]
    again = [i for i, reply in enumerate(replies) if reply.ok and verdicts[i] is None] if ask_again else []
    result = PairwiseResult(lang, prompt_version(lang), repeats=repeats)
    if again:
        question = prompt_store.load("pairwise")["follow_up"][lang]
        retried = client.judge(
            [follow_up(requests[i], texts[i], question, use_logprobs=use_logprobs) for i in again]
        )
        for i, reply in zip(again, retried, strict=True):
            verdicts[i] = verdict_from(reply)[0]
            result.recovered += verdicts[i] is not None
    for index, (output, reference) in enumerate(zip(outputs, references, strict=True)):
        first = 2 * repeats * index  # the item's first repeat: model's answer as A, then as B
        outcomes = [outcome(verdicts[first + 2 * r], verdicts[first + 2 * r + 1]) for r in range(repeats)]
        middle, spread = median_and_spread(outcomes)
        result.outcomes.append(middle)
        if repeats > 1:
            result.repeat_outcomes.append(outcomes)
            result.spreads.append(spread)
        result.length_differences.append(float(len(output) - len(reference)))
        result.rationales.append((texts[first], texts[first + 1]))
        result.verdicts.append((verdicts[first], verdicts[first + 1]))
    return result
