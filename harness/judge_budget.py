"""A request's judge budget (EVALBOARD_JUDGE_BUDGET_USD): the estimate before judging, the check
against the budget, and the messages a request fails with.

When: after the model has answered every judged benchmark of the request and before the first
judge call. Every judge prompt holds the model's answers (MT-Bench-style turns, pairwise
comparisons, G-Eval outputs), and the judge cache can make any part of a run free, so only then is
the estimate the run's own (exact prompts, known cache hits) rather than a bound that would refuse
runs that fit. The answers are in the response cache: a run refused here and re-run with a higher
budget does not generate them again. During judging the client stops at the budget
(JudgeBudgetExceeded) if the estimate was wrong.
"""

from __future__ import annotations

from typing import Any

from benchmarks.target import PermanentRunError


def check_before_judging(estimate: Any, budget_usd: float | None, priced: bool) -> None:
    """Fail the request (PermanentRunError) when the estimate is over the budget; `priced`: the
    judge is an endpoint (a local judge costs nothing and needs no prices)."""
    if budget_usd is None:
        return
    if estimate.cost_usd is None:
        if priced:
            raise PermanentRunError(
                f"EVALBOARD_JUDGE_BUDGET_USD is ${budget_usd:g} but the judge has no prices, so its cost "
                "cannot be known: set EVALBOARD_JUDGE_PRICE_INPUT_PER_MTOK and "
                "EVALBOARD_JUDGE_PRICE_OUTPUT_PER_MTOK (or unset the budget)"
            )
        return
    if estimate.cost_usd > budget_usd:
        raise PermanentRunError(
            f"judge budget exceeded before judging: the estimate is {estimate.describe()}, over "
            f"EVALBOARD_JUDGE_BUDGET_USD ${budget_usd:.4f}. Nothing was sent to the judge; raise the budget "
            "or evaluate fewer items (the model's answers are cached: a re-run does not generate them again)"
        )


def exceeded_while_judging(exc: Any, estimate: Any) -> PermanentRunError:
    """The failure for a run the client stopped at the budget (exc: JudgeBudgetExceeded)."""
    return PermanentRunError(
        f"judge budget exceeded while judging: ${exc.spent_usd:.4f} recorded after {exc.calls} calls reached "
        f"EVALBOARD_JUDGE_BUDGET_USD ${exc.budget_usd:.4f} (the estimate was {estimate.describe()}); the run "
        "stopped, and the replies already paid for are cached for a re-run"
    )


def usage_record(stats_before: dict[str, Any], client: Any) -> dict[str, Any]:
    """What one benchmark's judging used: the client's counters since `stats_before`, and its cost."""
    after = client.stats.as_dict()
    used: dict[str, Any] = {k: v - stats_before[k] for k, v in after.items() if isinstance(v, int)}
    used["cost_usd"] = client.endpoint.cost(used["prompt_tokens"], used["completion_tokens"])
    return used
