"""MT-Bench-style single-answer grading (Zheng et al., 2023): the judge rates each answer of a
two-turn conversation from 1 to 10 and writes the rating as [[n]]. The second turn is graded in
the context of the first. Math, reasoning and coding questions are graded against reference
answers (the paper found judges fail such questions without one).

Korean penalty (optional, on by default for Korean questions; stated on the About page): judges
rate fluent English answers to Korean questions highly, so an answer to a Korean question whose
letters are less than KOREAN_SHARE Hangul (code blocks left out) gets the lowest rating, 1,
whatever the judge said. The judge's own rating and reply are kept beside it.

Two question schemas are read: MT-Bench's question.jsonl (question_id, category, turns,
reference; KoMT-Bench uses it too), whose references guide grading in REFERENCE_CATEGORIES, and
LogicKor's (id, category, questions, references), whose references are per turn and may be null:
a turn is graded against its reference wherever it has one.

Repeats (repeats.py): with repeats > 1 every turn is graded that many times, sampled, and its
rating is the median with the spread beside it. estimate_calls says what grading will cost
(estimate.py) from the very requests run_single sends.

Prompts: prompts/single.json (Korean and English, versioned; the version is part of the cache key).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from evaluators.base import CorpusScore, mean_score
from evaluators.judge import prompt_store
from evaluators.judge.client import JudgeRequest
from evaluators.judge.estimate import Estimate, estimate_requests
from evaluators.judge.follow_up import follow_up, rating_from
from evaluators.judge.repeats import mean_spread, median_and_spread, repeat_params

REFERENCE_CATEGORIES = frozenset({"math", "reasoning", "coding"})
LOWEST, HIGHEST = 1.0, 10.0
KOREAN_SHARE = 0.3  # Hangul share of the letters below which an answer is "not in Korean"
PARAMS = {"temperature": 0, "max_tokens": 256}
REPLY_TOKENS = 120  # a typical reply: the two or three sentences the prompts ask for and the rating line
LOGICKOR_TURNS = 2  # LogicKor's schema is two turns (one published item repeats its second question)

RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")
LOOSE_RATING = re.compile(r"\[\s*(\d+(?:\.\d+)?)\s*\]|(?:rating|score|점수)\s*[:：]?\s*(\d+(?:\.\d+)?)", re.I)
CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.S)


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    turns: tuple[str, ...]
    references: tuple[str | None, ...] = ()  # one per turn (MT-Bench: for REFERENCE_CATEGORIES)
    per_turn_references: bool = False  # LogicKor: each turn that has a reference is graded against it

    def reference(self, turn: int) -> str | None:
        """The reference answer turn `turn` is graded against, if any."""
        if self.per_turn_references:
            return (self.references[turn] if turn < len(self.references) else None) or None
        guided = self.category in REFERENCE_CATEGORIES and len(self.references) >= len(self.turns)
        return self.references[turn] if guided else None

    @property
    def reference_guided(self) -> bool:
        return any(self.reference(turn) is not None for turn in range(len(self.turns)))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Question:
        """A line of MT-Bench's question.jsonl (question_id, category, turns, reference) or of
        LogicKor's questions.jsonl (id, category, questions, references)."""
        if "questions" in record:
            turns = tuple(str(t) for t in record["questions"][:LOGICKOR_TURNS])
            references = tuple(None if r is None else str(r) for r in record.get("references") or ())
            return cls(str(record["id"]), str(record["category"]), turns, references[: len(turns)], True)
        return cls(
            str(record["question_id"]),
            str(record["category"]),
            tuple(record["turns"]),
            tuple(record.get("reference") or ()),
        )


def prompt_version(lang: str) -> str:
    return prompt_store.version_label("single", lang)


def build_request(lang: str, question: Question, answers: Sequence[str], turn: int) -> JudgeRequest:
    """The request grading answers[turn] (0-based) of `question`; earlier turns are context."""
    prompts = prompt_store.load("single")[lang]
    reference = question.reference(turn)
    form = ("turn1", "turn2")[min(turn, 1)] + ("_reference" if reference is not None else "")
    fields = {"question": question.turns[turn], "answer": answers[turn]}
    if turn > 0:
        fields.update(question_1=question.turns[turn - 1], answer_1=answers[turn - 1])
    if reference is not None:
        fields["reference"] = reference
        if turn > 0:  # LogicKor: the first turn may have no reference where the second has one
            fields["reference_1"] = question.reference(turn - 1) or prompts["no_reference"]
    content = prompts[form].format(**fields)
    return JudgeRequest([{"role": "user", "content": content}], prompt_version(lang), dict(PARAMS))


def plan_requests(
    lang: str, questions: Sequence[Question], answers: Sequence[Sequence[str]], repeats: int = 1
) -> list[JudgeRequest]:
    """Every request run_single sends first: per question, per turn, per repeat."""
    return [
        replace(request, params=repeat_params(request.params, repeat, repeats))
        for question, question_answers in zip(questions, answers, strict=True)
        for turn in range(len(question.turns))
        for request in [build_request(lang, question, question_answers, turn)]
        for repeat in range(repeats)
    ]


def estimate_calls(
    client: Any, lang: str, questions: Sequence[Question], answers: Sequence[Sequence[str]], *,
    repeats: int = 1,
) -> Estimate:  # fmt: skip
    """What run_single with these arguments will cost (estimate.py); nothing is sent."""
    requests = plan_requests(lang, questions, answers, repeats)
    return estimate_requests(client, requests, reply_tokens=REPLY_TOKENS)


def parse_rating(text: str) -> float | None:
    """The last [[n]] in the reply; failing that the last [n] or "Rating: n" (small judges drop a
    bracket). Only ratings from 1 to 10 count."""
    found = RATING.findall(text or "")
    if not found:
        found = [a or b for a, b in LOOSE_RATING.findall(text or "")]
    if not found:
        return None
    value = float(found[-1])
    return value if LOWEST <= value <= HIGHEST else None


def hangul_share(text: str) -> float | None:
    """Hangul's share of the letters outside code; None when there are no letters ("42")."""
    prose = CODE.sub(" ", text or "")
    letters = [ch for ch in prose if ch.isalpha()]
    if not letters:
        return None
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff"
                 or "\u3130" <= ch <= "\u318f")  # fmt: skip
    return hangul / len(letters)


def not_korean(text: str) -> bool:
    share = hangul_share(text)
    return share is not None and share < KOREAN_SHARE


@dataclass
class TurnGrade:
    rating: float | None  # after the Korean penalty; None: no rating in the reply, or no reply
    judge_rating: float | None  # as the judge gave it
    rationale: str  # the judge's reply (or why there is none)
    source: str = "reply"  # reply | follow-up logprobs | follow-up text | unparseable | failed
    penalized: bool = False
    repeat_ratings: list[float | None] = field(default_factory=list)  # the judge's, per repeat (> 1)
    spread: float | None = None  # mean absolute deviation of repeat_ratings from their median

    @property
    def failed(self) -> bool:  # the judge call failed after its retries
        return self.source in ("failed", "follow-up failed")

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "rating": self.rating,
            "judge_rating": self.judge_rating,
            "rationale": self.rationale,
            "source": self.source,
            "penalized": self.penalized,
        }
        if len(self.repeat_ratings) > 1:
            shown.update(repeat_ratings=self.repeat_ratings, spread=self.spread)
        return shown


def grade(
    judged: float | None, source: str, rationale: str, answer: str, *, penalize_non_korean: bool
) -> TurnGrade:
    if penalize_non_korean and not_korean(answer) and source not in ("failed", "follow-up failed"):
        return TurnGrade(LOWEST, judged, rationale, source, penalized=True)
    return TurnGrade(judged, judged, rationale, source)


@dataclass
class SingleResult:
    lang: str
    prompt_version: str
    penalize_non_korean: bool
    questions: list[Question] = field(default_factory=list)
    grades: list[list[TurnGrade]] = field(default_factory=list)  # per question, per turn
    repeats: int = 1

    def spread(self) -> float | None:
        """The mean over graded turns of their repeats' spread (None with one repeat)."""
        return mean_spread([g.spread for per_turn in self.grades for g in per_turn])

    def ratings(self, turn: int | None = None) -> list[float]:
        return [
            g.rating
            for per_turn in self.grades
            for t, g in enumerate(per_turn)
            if g.rating is not None and (turn is None or t == turn)
        ]

    @property
    def unparseable(self) -> int:
        return sum(g.rating is None and not g.failed for per_turn in self.grades for g in per_turn)

    @property
    def recovered(self) -> int:
        """Ratings read from a follow-up, not from the judge's first reply."""
        return sum(g.source.startswith("follow-up") and g.rating is not None for t in self.grades for g in t)

    @property
    def failed(self) -> int:
        return sum(g.failed for per_turn in self.grades for g in per_turn)

    @property
    def penalized(self) -> int:
        return sum(g.penalized for per_turn in self.grades for g in per_turn)

    def corpus(self, turn: int | None = None) -> CorpusScore | None:
        """Mean rating (1-10) over the graded turns with its standard error; ungraded turns are
        reported, not scored."""
        values = self.ratings(turn)
        return mean_score(values) if values else None

    def by_category(self) -> dict[str, float]:
        totals: dict[str, list[float]] = {}
        for question, per_turn in zip(self.questions, self.grades, strict=True):
            totals.setdefault(question.category, []).extend(
                g.rating for g in per_turn if g.rating is not None
            )
        return {category: sum(v) / len(v) for category, v in sorted(totals.items()) if v}


Read = tuple[float | None, str, str]  # (rating, where it came from, the judge's reply or why none)


def _read(reply: Any) -> Read:
    if not reply.ok:
        return None, "failed", f"judge call failed: {reply.error}"
    text = reply.texts[0] if reply.texts else ""
    rating = parse_rating(text)
    return rating, "reply" if rating is not None else "unparseable", text


def _ask_again(
    client: Any, lang: str, requests: list[JudgeRequest], read: list[Read], use_logprobs: bool
) -> None:
    """Replies with no rating are asked once more for the number alone (follow_up.py), in place."""
    again = [i for i, (_, source, _) in enumerate(read) if source == "unparseable"]
    if not again:
        return
    question = prompt_store.load("single")[lang]["follow_up"]
    retried = client.judge(
        [follow_up(requests[i], read[i][2], question, use_logprobs=use_logprobs) for i in again]
    )
    allowed = list(range(int(LOWEST), int(HIGHEST) + 1))
    for i, reply in zip(again, retried, strict=True):
        rating, source = rating_from(reply, allowed)
        read[i] = (rating, source, read[i][2])


def _grade_repeats(taken: list[Read], answer: str, penalize_non_korean: bool) -> TurnGrade:
    """One turn's grade from its repeats: the median rating, the first rated repeat's reply."""
    if len(taken) == 1:
        rating, source, rationale = taken[0]
        return grade(rating, source, rationale, answer, penalize_non_korean=penalize_non_korean)
    ratings = [rating for rating, _, _ in taken]
    middle, spread = median_and_spread(ratings)
    _, source, rationale = next((t for t in taken if t[0] is not None), taken[0])
    result = grade(middle, source, rationale, answer, penalize_non_korean=penalize_non_korean)
    result.repeat_ratings, result.spread = ratings, spread
    return result


def run_single(
    client: Any,
    lang: str,
    questions: Sequence[Question],
    answers: Sequence[Sequence[str]],
    *,
    penalize_non_korean: bool = False,
    use_logprobs: bool = True,
    ask_again: bool = True,
    repeats: int = 1,
) -> SingleResult:
    """Grade every turn of every question through a JudgeClient (all requests in one batch, so the
    client's concurrency limit applies across questions), `repeats` times each. Replies with no
    rating are asked once more for the number alone (follow_up.py) unless `ask_again` is off."""
    requests = plan_requests(lang, questions, answers, repeats)
    read = [_read(reply) for reply in client.judge(requests)]
    if ask_again:
        _ask_again(client, lang, requests, read, use_logprobs)
    result = SingleResult(lang, prompt_version(lang), penalize_non_korean and lang == "ko", list(questions))
    result.repeats = repeats
    position = iter(read)
    for question, question_answers in zip(questions, answers, strict=True):
        result.grades.append([
            _grade_repeats([next(position) for _ in range(repeats)], question_answers[turn],
                           result.penalize_non_korean)
            for turn in range(len(question.turns))
        ])  # fmt: skip
    return result
