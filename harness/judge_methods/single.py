"""MT-Bench-style single grading (also LogicKor-schema sets): each turn rated 1-10 by the judge;
the score is the mean rating / 10, with per-turn and per-category rows."""

from __future__ import annotations

from typing import Any

from benchmarks.target import PermanentRunError
from harness.judge_methods import SCORED_BY, Answered, JudgeMethod, Prepared
from harness.judge_methods.common import repeat_summary, row, tenth
from harness.results import MetricValue


class SingleGrading:
    name: str = "single"

    def check_record(self, record: dict[str, Any]) -> None:
        from evaluators.judge.single import Question

        question = Question.from_record(record)
        if not question.turns or not all(turn.strip() for turn in question.turns):
            raise ValueError("a question has no text")

    def prepare(self, items: list[dict[str, Any]]) -> Prepared:
        from evaluators.judge.single import Question

        questions = [Question.from_record(item) for item in items]
        return Prepared([list(q.turns) for q in questions], questions=questions)

    def estimate(self, client: Any, answered: Answered, repeats: int) -> Any:
        from evaluators.judge.single import estimate_calls

        return estimate_calls(client, answered.lang, answered.questions, answered.answers, repeats=repeats)

    def grade(
        self, client: Any, answered: Answered, setup: Any
    ) -> tuple[list[MetricValue], list[dict[str, Any]]]:
        return _grade(client, answered, setup)


def _grade(client: Any, answered: Answered, setup: Any) -> tuple[list[MetricValue], list[dict[str, Any]]]:
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
        **repeat_summary(result.repeats, result.spread(), "rating points (1-10)"),
    }
    rows = [row(spec, "mt_bench", corpus.value / 10, tenth(corpus.stderr), len(result.ratings()), True,
                 judge=summary)]  # fmt: skip
    for turn in range(max(len(q.turns) for q in questions)):
        score = result.corpus(turn)
        if score is not None:
            rows.append(row(spec, f"turn_{turn + 1}", score.value / 10, tenth(score.stderr),
                             len(result.ratings(turn)), False))  # fmt: skip
    for category, value in result.by_category().items():
        rows.append(row(spec, "mt_bench", value / 10, None, None, False, task=f"{spec.task}:{category}"))
    return rows, _samples(answered, result)


def _samples(answered: Answered, result: Any) -> list[dict[str, Any]]:
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


METHOD: JudgeMethod = SingleGrading()
