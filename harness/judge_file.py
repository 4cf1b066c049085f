"""Grading a judge file's items (app/judging/items.py) with the server's judge: the worker's
"judge" jobs (POST /api/v1/judge) and `evalboard judge`, which runs this in process.

The judge is the one every judged run uses (harness/judged.py: the configured endpoint, or the
bundled model behind the local adapter), with the same response cache, repeats and budget: the
cost is estimated before the first call and the job fails, sending nothing, when it is over
EVALBOARD_JUDGE_BUDGET_USD (harness/judge_budget.py).

- pairwise: output_a against output_b in both orders (AlpacaEval-style; a win needs both orders),
  reported from output_a's side: its win rate and length-controlled win rate.
- single: a rating 1-10 of each answer (MT-Bench-style), against the item's reference if it has one;
  Korean answers to Korean questions are checked by the Korean penalty as the judged suites do.
- geval: coherence, consistency, fluency and relevance of each summary of its source, on their own
  scales (1-5, fluency 1-3), and `geval`, their mean on 0..1 (harness/geval_scoring.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.target import PermanentRunError

Check = Callable[[Any], None]  # the budget check, given the method's estimate
WINNER = {1.0: "a", 0.0: "b", 0.5: "tie"}


def _corpus(score: Any) -> dict[str, Any] | None:
    return None if score is None else {"value": score.value, "stderr": score.stderr}


def _pairwise(client: Any, lang: str, items: list[dict[str, str]], setup: Any, check: Check,
              _penalty: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    from evaluators.judge.pairwise import estimate_calls, run_pairwise

    instructions = [item["instruction"] for item in items]
    a, b = [item["output_a"] for item in items], [item["output_b"] for item in items]
    check(estimate_calls(client, lang, instructions, a, b, repeats=setup.repeats))
    result = run_pairwise(
        client, lang, instructions, a, b, use_logprobs=setup.use_logprobs, repeats=setup.repeats
    )
    shown_first = {"A": "a", "B": "b", "TIE": "tie"}  # output_a shown as A
    shown_second = {"A": "b", "B": "a", "TIE": "tie"}  # output_a shown as B
    graded = []
    for index, item in enumerate(items):
        first, second = result.verdicts[index]
        outcome = result.outcomes[index]
        graded.append({
            "id": item.get("id"), "winner": None if outcome is None else WINNER[outcome],
            "outcome_a": outcome, "verdict_a_shown_first": shown_first.get(first or ""),
            "verdict_b_shown_first": shown_second.get(second or ""),
            "rationales": list(result.rationales[index]),
        })  # fmt: skip
    judged = [o for o in result.outcomes if o is not None]
    summary = {
        "prompt_version": result.prompt_version,
        "win_rate_a": _corpus(result.win_rate()),
        "lc_win_rate_a": result.length_controlled(),
        "wins_a": sum(o == 1.0 for o in judged), "ties": sum(o == 0.5 for o in judged),
        "wins_b": sum(o == 0.0 for o in judged), "unjudged": result.unjudged,
        "recovered_by_follow_up": result.recovered,
    }  # fmt: skip
    return summary, graded


def _single(client: Any, lang: str, items: list[dict[str, str]], setup: Any, check: Check,
            penalty: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    from evaluators.judge.single import Question, estimate_calls, run_single

    questions = [
        Question(item.get("id") or str(index + 1), item.get("category") or "general", (item["question"],),
                 (item["reference"],) if item.get("reference") else (), per_turn_references=True)
        for index, item in enumerate(items)
    ]  # fmt: skip
    answers = [[item["answer"]] for item in items]
    check(estimate_calls(client, lang, questions, answers, repeats=setup.repeats))
    result = run_single(client, lang, questions, answers, penalize_non_korean=penalty,
                        use_logprobs=setup.use_logprobs, repeats=setup.repeats)  # fmt: skip
    graded = [
        {"id": item.get("id"), **grades[0].as_dict()}
        for item, grades in zip(items, result.grades, strict=True)
    ]
    summary = {
        "prompt_version": result.prompt_version,
        "mean_rating": _corpus(result.corpus()),
        "graded": len(result.ratings()), "unparseable": result.unparseable, "failed": result.failed,
        "recovered_by_follow_up": result.recovered,
        "penalize_non_korean": result.penalize_non_korean, "penalized": result.penalized,
        "by_category": result.by_category(),
    }  # fmt: skip
    return summary, graded


def _geval(client: Any, lang: str, items: list[dict[str, str]], setup: Any, check: Check,
           _penalty: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    from evaluators.judge import geval
    from harness.geval_scoring import GEVAL, corpus_scores, item_scores, summary

    sources, summaries = [item["source"] for item in items], [item["summary"] for item in items]
    check(geval.estimate_criteria(client, lang, sources, summaries, use_logprobs=setup.use_logprobs))
    results = geval.run_criteria(client, lang, sources, summaries, use_logprobs=setup.use_logprobs)
    normalized = [item_scores(results, index) for index in range(len(items))]
    graded = [
        {"id": item.get("id"), "scores": {c: r.scores[index].value for c, r in results.items()},
         GEVAL: normalized[index][GEVAL],
         "methods": {c: r.scores[index].method for c, r in results.items()},
         "replies": {c: r.scores[index].reply for c, r in results.items()}}
        for index, item in enumerate(items)
    ]  # fmt: skip
    overall = corpus_scores(normalized).get(GEVAL)
    record = summary(results)
    record["means"] = {c: _corpus(r.corpus()) for c, r in results.items()}
    record[GEVAL] = _corpus(overall)
    return record, graded


METHODS = {"pairwise": _pairwise, "single": _single, "geval": _geval}


def grade(method: str, lang: str, items: list[dict[str, str]], setup: Any, cache_dir: Path, *,
          korean_penalty: bool | None = None) -> dict[str, Any]:  # fmt: skip
    """Grade `items` (already checked by app/judging/items.py) with `setup`'s judge (a
    harness.judged.JudgeSetup); the results document, as GET /api/v1/judge/{id} serves it."""
    from evaluators.judge.client import JudgeBudgetExceeded, JudgeConfigError
    from harness.judge_budget import check_before_judging, exceeded_while_judging, usage_record
    from harness.judged import open_judge

    estimates: list[Any] = []

    def check(estimate: Any) -> None:
        estimates.append(estimate)
        check_before_judging(estimate, setup.budget_usd, priced=setup.endpoint is not None)

    penalty = setup.penalize_non_korean if korean_penalty is None else korean_penalty
    with open_judge(setup, cache_dir) as client:
        before = client.stats.as_dict()
        try:
            summary, graded = METHODS[method](client, lang, items, setup, check, penalty)
        except JudgeBudgetExceeded as exc:
            raise exceeded_while_judging(exc, estimates[-1]) from exc
        except JudgeConfigError as exc:  # a bad key or model name: asking again cannot help
            raise PermanentRunError(str(exc)) from exc
        local = setup.endpoint is None
        judge = {
            "judge_model": client.endpoint.model,
            # The endpoint's address is server configuration: a member's job result never names it.
            "judge_endpoint": "local adapter (bundled model)" if local else "the server's judge endpoint",
            "use_logprobs": setup.use_logprobs, "repeats": setup.repeats if method != "geval" else 1,
            "usage": usage_record(before, client), "estimate": estimates[-1].as_dict() if estimates else None,
        }  # fmt: skip
    return {
        "method": method,
        "lang": lang,
        "n": len(items),
        "summary": summary,
        "items": graded,
        "judge": judge,
    }
