"""Scoring a generation benchmark with evalboard's evaluators, from lm-eval's logged samples.

lm-eval generates (benchmarks/tasks/gen/); this turns each task's (response, target) pairs into
corpus scores written into lm-eval's results as if lm-eval had computed them ("rougeL,none",
"rougeL_stderr,none"), so results.json, metric rows and the board read them like any metric, and
into per-sample scores on each logged sample for the model page's sample browser.

A "geval" metric is graded by the LLM judge instead (harness/geval_scoring.py): the judge reads
the item's source document and the generation; its per-criterion replies go on each sample.
"""

from __future__ import annotations

import shlex
from typing import Any

from benchmarks.responses import response_text
from benchmarks.spec import BenchmarkSpec, MetricSpec
from benchmarks.target import PermanentRunError

SCORED_BY = "evalboard-evaluators"  # marks a sample whose scores are graded, not right/wrong


def device_options(options: dict[str, dict[str, Any]] | None, device: str) -> dict[str, dict[str, Any]]:
    """BERTScore runs where the model ran when that is a GPU (the worker's device), else on CPU."""
    options = {name: dict(values) for name, values in (options or {}).items()}
    options.setdefault("bertscore", {}).setdefault("device", "cuda" if device.startswith("cuda") else "cpu")
    return options


def _evaluate(
    spec: BenchmarkSpec, metric: MetricSpec, params: dict[str, Any], predictions: list[str],
    references: list[str],
) -> Any:  # fmt: skip
    from evaluators import registry
    from evaluators.base import EvaluatorInputError

    try:
        return registry.create(metric.evaluator, metric.lang, **params).evaluate(predictions, references)
    except EvaluatorInputError as exc:  # a configuration or data problem a retry cannot fix
        raise PermanentRunError(f"{spec.name}: {metric.evaluator}: {exc}") from exc


def score_generations(
    spec: BenchmarkSpec,
    task: str,
    results: dict[str, Any],
    options: dict[str, dict[str, Any]] | None = None,
    judge: Any = None,
) -> list[dict[str, Any]]:
    """Score `task`'s logged samples with spec.metrics; returns what produced each score (recorded
    with the result), one record per metric. `options` adds worker settings per evaluator (the
    BERTScore model, device; G-Eval on or off); `judge` (geval_scoring.GevalJudge) grades G-Eval."""
    from harness.geval_scoring import GEVAL, geval_evaluation

    samples: list[dict[str, Any]] = results.get("samples", {}).get(task, [])
    if not samples:
        raise RuntimeError(f"{task}: lm-eval logged no samples to score (run with log_samples)")
    predictions = [response_text(sample.get("filtered_resps")) for sample in samples]
    references = [str(sample.get("target", "")) for sample in samples]
    task_results = results["results"].setdefault(task, {})
    directions = results.setdefault("higher_is_better", {}).setdefault(task, {})
    produced: list[dict[str, Any]] = []
    names: list[str] = []
    for metric in spec.metrics:
        params = {**metric.params, **(options or {}).get(metric.evaluator, {})}
        if metric.evaluator == GEVAL:
            evaluation, record = geval_evaluation(metric, params, samples, predictions, judge)
            produced.append(record)
            if evaluation is None:  # off on this server: the record says so
                continue
        else:
            evaluation = _evaluate(spec, metric, params, predictions, references)
            record = evaluation.as_dict()
            record.pop("scores")
            produced.append(record)
        for name, score in evaluation.corpus.items():
            task_results[f"{name},none"] = score.value
            task_results[f"{name}_stderr,none"] = score.stderr if score.stderr is not None else "N/A"
            directions[name] = evaluation.higher_is_better
            names.append(name)
        for sample, scores in zip(samples, evaluation.samples, strict=True):
            sample.update(scores)
    for sample in samples:
        sample["metrics"] = names + [m for m in sample.get("metrics", []) if m not in names]
        sample["scored_by"] = SCORED_BY
    return produced


REPRODUCE_DIR = "evalboard-reproduce"


def score_commands(spec: BenchmarkSpec, task: str, produced: list[dict[str, Any]] | None) -> str:
    """What follows the lm_eval command in a generation benchmark's reproduce line: keep the
    samples lm-eval logs, then score them with each evaluator as this run did. Empty for
    benchmarks lm-eval scores itself."""
    from evaluators import registry

    if not spec.metrics or not produced:
        return ""
    samples = f"{REPRODUCE_DIR}/*/samples_{task}_*.jsonl"
    commands = []
    for metric, record in zip(spec.metrics, produced, strict=True):
        if metric.evaluator not in registry.names():  # G-Eval: the judge's record, not a score command
            continue
        params = dict(metric.params)
        if metric.evaluator == "bertscore":  # the model this worker used, not whatever the next one has
            params.update(model=record["params"]["model"], num_layers=record["params"]["num_layers"])
        options = [f"--param={key}={value}" for key, value in params.items()]
        command = [
            "evalboard",
            "score",
            "--samples",
            samples,
            "--metric",
            metric.evaluator,
            "--lang",
            metric.lang,
        ]
        commands.append(shlex.join([*command, *options]).replace(shlex.quote(samples), samples))
    return f" --log_samples --output_path {REPRODUCE_DIR} && " + " && ".join(commands)
