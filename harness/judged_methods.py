"""The two judged benchmark kinds (harness/judged.py), each in three steps the suite runs apart:
answer (the model, through the backend layer), estimate (what judging will cost, before any judge
call: evaluators/judge/estimate.py), and grade (the judge, then metric rows and per-sample
records).

- single (MT-Bench-style, also LogicKor-schema sets): each turn rated 1-10; score mean rating / 10.
- pairwise (AlpacaEval-style): the answer against the item's reference output in both orders;
  score the length-controlled win rate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from benchmarks.spec import BenchmarkSpec
from benchmarks.target import PermanentRunError
from harness.results import MetricValue

SCORED_BY = "evalboard-judge"
BOOTSTRAP_RESAMPLES = 200


@dataclass
class Answered:
    """One judged benchmark's items with the model's answers, ready for the judge."""

    spec: BenchmarkSpec
    items: list[dict[str, Any]]
    answers: list[list[str]]  # per item, per turn
    prompts: list[list[str]]  # what each turn's answer answered
    max_gen_toks: int
    questions: list[Any] = field(default_factory=list)  # single: evaluators.judge.single.Question
    references: list[str] = field(default_factory=list)  # pairwise: the reference outputs

    @property
    def method(self) -> str:
        assert self.spec.judge is not None
        return self.spec.judge.method

    @property
    def lang(self) -> str:
        assert self.spec.judge is not None
        return self.spec.judge.lang

    @property
    def instructions(self) -> list[str]:
        return [str(item["instruction"]) for item in self.items]

    @property
    def outputs(self) -> list[str]:
        return [answers[0] for answers in self.answers]


def answer(
    spec: BenchmarkSpec, lm: Any, items: list[dict[str, Any]], *, use_chat_template: bool, max_gen_toks: int
) -> Answered:
    from harness.judged import generate_conversations

    assert spec.judge is not None
    if spec.judge.method == "single":
        from evaluators.judge.single import Question

        questions = [Question.from_record(item) for item in items]
        conversations = [list(q.turns) for q in questions]
    elif spec.judge.method == "pairwise":
        questions = []
        conversations = [[str(item["instruction"])] for item in items]
    else:
        raise ValueError(f"unknown judge method {spec.judge.method!r}")
    answers, prompts = generate_conversations(
        lm, conversations, use_chat_template=use_chat_template, max_gen_toks=max_gen_toks
    )
    references = [str(item["output"]) for item in items] if spec.judge.method == "pairwise" else []
    return Answered(spec, items, answers, prompts, max_gen_toks, questions, references)


def estimate(client: Any, answered: Answered, repeats: int) -> Any:
    """What grading `answered` will cost (an evaluators.judge.estimate.Estimate); nothing is sent."""
    if answered.method == "single":
        from evaluators.judge.single import estimate_calls

        return estimate_calls(client, answered.lang, answered.questions, answered.answers, repeats=repeats)
    from evaluators.judge import pairwise

    return pairwise.estimate_calls(
        client, answered.lang, answered.instructions, answered.outputs, answered.references, repeats=repeats
    )


def grade(client: Any, answered: Answered, setup: Any) -> tuple[list[MetricValue], list[dict[str, Any]]]:
    """Judge the answers (setup: harness.judged.JudgeSetup): (metric rows, per-sample records)."""
    if answered.method == "single":
        return _single(client, answered, setup)
    return _pairwise(client, answered, setup)


def _row(spec: BenchmarkSpec, metric: str, value: float, stderr: float | None, n: int | None, primary: bool,
         task: str | None = None, judge: dict[str, Any] | None = None) -> MetricValue:  # fmt: skip
    return MetricValue(
        spec.name, task or spec.task, metric, value, stderr, n, primary, {"judge": judge or {}}
    )


def _tenth(value: float | None) -> float | None:
    return None if value is None else value / 10


def _single(client: Any, answered: Answered, setup: Any) -> tuple[list[MetricValue], list[dict[str, Any]]]:
    from evaluators.judge.single import run_single

    spec, questions = answered.spec, answered.questions
    result = run_single(
        client, answered.lang, questions, answered.answers, penalize_non_korean=setup.penalize_non_korean,
        use_logprobs=setup.use_logprobs, repeats=setup.repeats,
    )  # fmt: skip
    corpus = result.corpus()
    if corpus is None:
        raise PermanentRunError(
            f"{spec.name}: the judge rated none of {sum(len(q.turns) for q in questions)} answers "
            f"({result.unparseable} replies had no rating, {result.failed} calls failed); "
            "check the judge endpoint and model"
        )
    summary = {
        "prompt_version": result.prompt_version,
        "penalize_non_korean": result.penalize_non_korean,
        "graded_turns": len(result.ratings()),
        "unparseable": result.unparseable,
        "failed": result.failed,
        "recovered_by_follow_up": result.recovered,
        "penalized": result.penalized,
        "by_category": result.by_category(),
        "scale": "mean rating (1-10) / 10",
        **_repeat_summary(result.repeats, result.spread(), "rating points (1-10)"),
    }
    rows = [_row(spec, "mt_bench", corpus.value / 10, _tenth(corpus.stderr), len(result.ratings()), True,
                 judge=summary)]  # fmt: skip
    for turn in range(max(len(q.turns) for q in questions)):
        score = result.corpus(turn)
        if score is not None:
            rows.append(_row(spec, f"turn_{turn + 1}", score.value / 10, _tenth(score.stderr),
                             len(result.ratings(turn)), False))  # fmt: skip
    for category, value in result.by_category().items():
        rows.append(_row(spec, "mt_bench", value / 10, None, None, False, task=f"{spec.task}:{category}"))
    return rows, _single_samples(answered, result)


def _repeat_summary(repeats: int, spread: float | None, unit: str) -> dict[str, Any]:
    """How many times each item was graded and, with more than one, how much the repeats moved."""
    if repeats <= 1:
        return {"repeats": 1}
    from evaluators.judge.repeats import REPEAT_TEMPERATURE

    return {
        "repeats": repeats,
        "repeat_temperature": REPEAT_TEMPERATURE,
        "aggregate": "median of the repeats",
        "spread": spread,
        "spread_measure": f"mean absolute deviation from the median, {unit}, averaged over items",
    }


def _single_samples(answered: Answered, result: Any) -> list[dict[str, Any]]:
    samples = []
    for index, (question, grades) in enumerate(zip(answered.questions, result.grades, strict=True)):
        ratings = [g.rating for g in grades if g.rating is not None]
        references = [question.reference(turn) or "—" for turn in range(len(question.turns))]
        samples.append({
            "doc_id": index,
            "doc": answered.items[index],
            "arguments": [[answered.prompts[index][-1], {"max_gen_toks": answered.max_gen_toks}]],
            "filtered_resps": ["\n\n".join(f"[{t + 1}] {a}" for t, a in enumerate(answered.answers[index]))],
            "target": "\n\n".join(f"[{t + 1}] {r}" for t, r in enumerate(references)),
            "rating": sum(ratings) / len(ratings) if ratings else None,
            "metrics": ["rating"],
            "scored_by": SCORED_BY,
            "judge": [g.as_dict() for g in grades],
            "judge_rationale": "\n\n".join(f"[{t + 1}] {_grade_text(g)}" for t, g in enumerate(grades)),
        })  # fmt: skip
    return samples


def _grade_text(grade: Any) -> str:
    """'rating 7 (reply)' and the judge's reply, for the model page; repeats' ratings with them."""
    rating = "no rating" if grade.rating is None else f"rating {grade.rating:g}"
    if len(grade.repeat_ratings) > 1:
        each = ", ".join("—" if r is None else f"{r:g}" for r in grade.repeat_ratings)
        spread = "" if grade.spread is None else f", spread {grade.spread:.2f}"
        rating += f" (median of {each}{spread})"
    penalty = ", not Korean: lowest rating" if grade.penalized else ""
    return f"{rating} ({grade.source}{penalty})\n{grade.rationale}"


def _bootstrap_lc(outcomes: list[float], differences: list[float]) -> float | None:
    """Standard error of the length-controlled win rate: items resampled with a fixed seed."""
    from evaluators.judge.pairwise import length_controlled_win_rate

    if len(outcomes) < 2:
        return None
    rng = random.Random(1234)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        picks = [rng.randrange(len(outcomes)) for _ in outcomes]
        value = length_controlled_win_rate([outcomes[p] for p in picks], [differences[p] for p in picks])
        if value is not None:
            values.append(value)
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def _pairwise(client: Any, answered: Answered, setup: Any) -> tuple[list[MetricValue], list[dict[str, Any]]]:
    from evaluators.judge.pairwise import run_pairwise

    spec, items = answered.spec, answered.items
    result = run_pairwise(
        client, answered.lang, answered.instructions, answered.outputs, answered.references,
        use_logprobs=setup.use_logprobs, repeats=setup.repeats,
    )  # fmt: skip
    win = result.win_rate()
    lc = result.length_controlled()
    if win is None or lc is None:
        raise PermanentRunError(
            f"{spec.name}: the judge gave no verdict on any of {len(items)} pairs "
            f"({result.unjudged} unjudged); check the judge endpoint and model"
        )
    judged = [
        (o, d) for o, d in zip(result.outcomes, result.length_differences, strict=True) if o is not None
    ]
    summary = {
        "prompt_version": result.prompt_version,
        "reference_generator": items[0].get("generator"),
        "judged": len(judged),
        "unjudged": result.unjudged,
        "recovered_by_follow_up": result.recovered,
        "wins": sum(o == 1.0 for o, _ in judged),
        "ties": sum(o == 0.5 for o, _ in judged),
        "losses": sum(o == 0.0 for o, _ in judged),
        "mean_length_difference_chars": sum(d for _, d in judged) / len(judged),
        "lc_stderr": f"bootstrap over items, {BOOTSTRAP_RESAMPLES} resamples, seed 1234",
        **_repeat_summary(result.repeats, result.spread(), "outcome (win 1, tie 0.5, loss 0)"),
    }
    lc_stderr = _bootstrap_lc([o for o, _ in judged], [d for _, d in judged])
    rows = [
        _row(spec, "lc_win_rate", lc, lc_stderr, len(judged), True, judge=summary),
        _row(spec, "win_rate", win.value, win.stderr, len(judged), False),
    ]
    return rows, _pairwise_samples(answered, result)


def _pairwise_samples(answered: Answered, result: Any) -> list[dict[str, Any]]:
    samples = []
    for index, item in enumerate(answered.items):
        first, second = result.verdicts[index]
        judge: dict[str, Any] = {"verdict_model_first": first, "verdict_model_second": second,
                                 "rationales": list(result.rationales[index])}  # fmt: skip
        if result.repeats > 1:
            judge.update(repeat_outcomes=result.repeat_outcomes[index], spread=result.spreads[index])
        samples.append({
            "doc_id": index,
            "doc": item,
            "arguments": [[answered.prompts[index][0], {"max_gen_toks": answered.max_gen_toks}]],
            "filtered_resps": [answered.outputs[index]],
            "target": answered.references[index],
            "outcome": result.outcomes[index],
            "metrics": ["outcome"],
            "scored_by": SCORED_BY,
            "judge": judge,
            "judge_rationale": (
                f"[model's answer as A] verdict {first or 'none'}\n{result.rationales[index][0]}\n\n"
                f"[model's answer as B] verdict {second or 'none'}\n{result.rationales[index][1]}"
            ),
        })  # fmt: skip
    return samples
