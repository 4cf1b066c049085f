"""G-Eval in generation suites: a summarization benchmark's logged generations graded by the LLM
judge on G-Eval's four criteria (evaluators/judge/geval.py), beside ROUGE and BERTScore.

The judge is the judged suites' own (harness/judged.py: the configured endpoint, or the bundled
model behind the local adapter), opened only when a benchmark asks for G-Eval, and every call goes
through its JudgeClient: the same response cache, usage and cost records, and the request's judge
budget (estimated before the first call, harness/judge_budget.py).

Scores are stored on 0..1 like every score: each criterion (s - 1) / (top - 1) (coherence,
consistency and relevance are rated 1-5, fluency 1-3), and `geval` the mean of the four per item
over the items scored on all four. The means on the paper's own scales are recorded with the result
(`raw_means`). The ranked metric stays the benchmark's own (ROUGE-L): G-Eval's value depends on
which judge a server has, so two servers' G-Eval scores are comparable only with the same judge.

EVALBOARD_JUDGE_GEVAL=false leaves G-Eval out of the run (the bundled judge reads a Korean G-Eval
prompt of about 1,000 tokens in seconds on a CPU; the record says it was skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.spec import MetricSpec
from benchmarks.target import PermanentRunError

GEVAL = "geval"  # the evaluator name in a MetricSpec, and the metric of the four criteria's mean
VERSION = "1.0"  # bumps when this scoring changes the numbers
SCALE = "(score - 1) / (highest - 1) per criterion (1-5; fluency 1-3); geval: their mean per item"
METHOD_NAMES = {"logprobs": "log-probabilities", "samples": "mean of samples"}


class GevalJudge:
    """The judge of a suite run's G-Eval metrics, opened on first use (a run without G-Eval, or
    one answered entirely from the judge cache by an endpoint, starts no local model) and closed
    with the block."""

    def __init__(self, setup: Any, cache_dir: Path) -> None:
        self.setup = setup  # harness.judged.JudgeSetup
        self.cache_dir = cache_dir
        self._stack = ExitStack()
        self._client: Any = None

    def __enter__(self) -> GevalJudge:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    @property
    def client(self) -> Any:
        if self._client is None:
            from harness.judged import open_judge

            self._client = self._stack.enter_context(open_judge(self.setup, self.cache_dir))
        return self._client

    @property
    def endpoint_label(self) -> str:
        local = self.setup.endpoint is None
        return "local adapter (bundled model)" if local else str(self.client.endpoint.base_url)


def item_scores(results: dict[str, Any], index: int) -> dict[str, float | None]:
    """One item's scores on 0..1: geval_<criterion> each, and geval (None unless all are scored)."""
    from evaluators.judge.geval import normalized

    scores: dict[str, float | None] = {}
    for criterion, result in results.items():
        value = result.scores[index].value
        scores[f"{GEVAL}_{criterion}"] = None if value is None else normalized(criterion, value)
    values = [v for v in scores.values() if v is not None]
    scores[GEVAL] = sum(values) / len(values) if values and len(values) == len(results) else None
    return scores


def corpus_scores(per_item: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """metric -> CorpusScore over the items that have a value (metrics no item has are left out)."""
    from evaluators.base import mean_score

    names = list(per_item[0]) if per_item else []
    corpus = {}
    for name in names:
        values = [value for scores in per_item if (value := scores[name]) is not None]
        if values:
            corpus[name] = mean_score(values)
    return corpus


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """Counts and the means on each criterion's own scale, for the record."""
    raw = {}
    for criterion, result in results.items():
        score = result.corpus()
        raw[criterion] = None if score is None else score.value
    return {
        "prompt_versions": {c: r.prompt_version for c, r in results.items()},
        "raw_means": raw,
        "scored": {c: sum(s.value is not None for s in r.scores) for c, r in results.items()},
        "unparseable": {c: sum(s.method == "unparseable" for s in r.scores) for c, r in results.items()},
        "failed": {c: sum(s.method == "failed" for s in r.scores) for c, r in results.items()},
        "scale": SCALE,
    }


def rationale(results: dict[str, Any], index: int) -> str:
    """'coherence 3.62 of 1-5 (log-probabilities; reply "4")', one line per criterion."""
    from evaluators.judge.geval import allowed_scores

    lines = []
    for criterion, result in results.items():
        score = result.scores[index]
        allowed = allowed_scores(criterion)
        value = "no score" if score.value is None else f"{score.value:.2f} of {min(allowed)}-{max(allowed)}"
        how = METHOD_NAMES.get(score.method, score.method)
        lines.append(f"{criterion} {value} ({how}; reply {score.reply.strip()[:200]!r})")
    return "\n".join(lines)


def judge_all(
    judge: GevalJudge, lang: str, sources: list[str], outputs: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every criterion of every pair, after the budget check: (criterion -> GEvalResult, usage)."""
    from evaluators.judge import geval
    from evaluators.judge.client import JudgeBudgetExceeded, JudgeConfigError
    from harness.judge_budget import check_before_judging, exceeded_while_judging, usage_record

    client, setup = judge.client, judge.setup
    estimate = geval.estimate_criteria(client, lang, sources, outputs, use_logprobs=setup.use_logprobs)
    check_before_judging(estimate, setup.budget_usd, priced=setup.endpoint is not None)
    before = client.stats.as_dict()
    try:
        results = geval.run_criteria(client, lang, sources, outputs, use_logprobs=setup.use_logprobs)
    except JudgeBudgetExceeded as exc:
        raise exceeded_while_judging(exc, estimate) from exc
    except JudgeConfigError as exc:  # a bad key or model name: asking again cannot help
        raise PermanentRunError(str(exc)) from exc
    return results, {"usage": usage_record(before, client), "estimate": estimate.as_dict()}


def geval_evaluation(
    metric: MetricSpec,
    params: dict[str, Any],
    samples: list[dict[str, Any]],
    predictions: list[str],
    judge: GevalJudge | None,
) -> tuple[Any, dict[str, Any]]:
    """(an evaluators.base.Evaluation, or None when G-Eval is off; the record kept with the
    result). Each sample also gets the judge's per-criterion scores and replies (`judge`,
    `judge_rationale`) for the model page's sample browser."""
    from evaluators.base import Evaluation

    params = dict(params)
    enabled = params.pop("enabled", True)
    if not enabled or judge is None:
        skipped = (
            "G-Eval is off on this server (EVALBOARD_JUDGE_GEVAL=false)" if not enabled else "no judge given"
        )
        return None, {"evaluator": GEVAL, "version": VERSION, "lang": metric.lang, "skipped": skipped}
    field = str(params.pop("source", "document"))
    if params:  # a misspelt option would otherwise be ignored without a word
        raise PermanentRunError(f"G-Eval: unknown parameters {sorted(params)}; it takes source (a field)")
    try:
        sources = [str(sample["doc"][field]) for sample in samples]
    except (KeyError, TypeError) as exc:
        raise PermanentRunError(f"G-Eval: the items have no {field!r} field to judge against") from exc
    results, usage = judge_all(judge, metric.lang, sources, predictions)
    if all(s.method == "failed" for r in results.values() for s in r.scores):
        raise RuntimeError(  # a judge that answered nothing at all is down: the attempt is retried
            f"G-Eval: every one of {len(predictions) * len(results)} judge calls failed; "
            f"first error: {next(iter(results.values())).scores[0].reply}"
        )
    per_item = [item_scores(results, index) for index in range(len(samples))]
    for index, sample in enumerate(samples):
        graded = {c: r.scores[index] for c, r in results.items()}
        sample["judge"] = {GEVAL: {c: {"score": s.value, "method": s.method, "reply": s.reply}
                                   for c, s in graded.items()}}  # fmt: skip
        sample["judge_rationale"] = rationale(results, index)
    evaluation = Evaluation(
        evaluator=GEVAL, version=VERSION, lang=metric.lang,
        params={"source": field, "criteria": list(results), "use_logprobs": judge.setup.use_logprobs},
        primary=GEVAL, higher_is_better=True, corpus=corpus_scores(per_item), samples=per_item,  # type: ignore[arg-type]
    )  # fmt: skip
    record = evaluation.as_dict()
    record.pop("scores")
    client = judge.client
    record["judge"] = {"judge_model": client.endpoint.model, "judge_endpoint": judge.endpoint_label,
                       **summary(results), **usage}  # fmt: skip
    return evaluation, record
