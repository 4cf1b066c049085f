"""AlpacaEval-style pairwise grading: the model's answer against the item's reference output, judged
in both orders; the score is the length-controlled win rate, its stderr a bootstrap over items."""

from __future__ import annotations

import random
from typing import Any

from benchmarks.target import PermanentRunError
from harness.judge_methods import SCORED_BY, Answered, JudgeMethod, Prepared
from harness.judge_methods.common import repeat_summary, row
from harness.results import MetricValue

BOOTSTRAP_RESAMPLES = 200


class PairwiseGrading:
    name: str = "pairwise"

    def check_record(self, record: dict[str, Any]) -> None:
        if not (str(record["instruction"]).strip() and str(record["output"]).strip()):
            raise ValueError("an instruction or reference output is empty")

    def prepare(self, items: list[dict[str, Any]]) -> Prepared:
        return Prepared(
            [[str(item["instruction"])] for item in items], references=[str(item["output"]) for item in items]
        )

    def estimate(self, client: Any, answered: Answered, repeats: int) -> Any:
        from evaluators.judge import pairwise

        return pairwise.estimate_calls(
            client, answered.lang, answered.instructions, answered.outputs, answered.references,
            repeats=repeats,
        )  # fmt: skip

    def grade(
        self, client: Any, answered: Answered, setup: Any
    ) -> tuple[list[MetricValue], list[dict[str, Any]]]:
        return _grade(client, answered, setup)


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


def _grade(client: Any, answered: Answered, setup: Any) -> tuple[list[MetricValue], list[dict[str, Any]]]:
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
        **repeat_summary(result.repeats, result.spread(), "outcome (win 1, tie 0.5, loss 0)"),
    }
    lc_stderr = _bootstrap_lc([o for o, _ in judged], [d for _, d in judged])
    rows = [
        row(spec, "lc_win_rate", lc, lc_stderr, len(judged), True, judge=summary),
        row(spec, "win_rate", win.value, win.stderr, len(judged), False),
    ]
    return rows, _samples(answered, result)


def _samples(answered: Answered, result: Any) -> list[dict[str, Any]]:
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


METHOD: JudgeMethod = PairwiseGrading()
