"""`evalboard score`: score predictions made elsewhere against references, with no model run.

    evalboard score --metric rouge --lang ko --pred preds.txt --ref refs.txt
    evalboard score --metric chrf --lang en --pred preds.txt --ref refs.txt --param word_order=2
    evalboard score --metric bleu --lang ko --samples samples_task_2026.jsonl   # lm-eval's log

Files hold one text per line (UTF-8; a trailing newline ends the last line, it does not add an
empty one). Scores print on 0..100 as the board shows them; --json prints the API's document
(0..1) instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True, soft_wrap=True)


class ScoreInputError(ValueError):
    pass


def read_lines(path: Path, what: str) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScoreInputError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScoreInputError(
            f"the {what} file {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from exc
    if not text.strip():
        raise ScoreInputError(f"the {what} file {path} is empty: it needs one text per line")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return [line.removesuffix("\r") for line in lines]


def read_samples(path: Path, task: str | None) -> tuple[list[str], list[str]]:
    """(responses, targets) from an lm-eval samples log (samples_<task>_<time>.jsonl) or an
    evalboard samples.jsonl (which holds every task: --task picks one)."""
    from benchmarks.responses import response_text

    predictions, references = [], []
    for number, line in enumerate(read_lines(path, "samples"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScoreInputError(f"{path} line {number} is not JSON: {exc.msg}") from exc
        if not isinstance(record, dict) or "target" not in record or "filtered_resps" not in record:
            raise ScoreInputError(
                f"{path} line {number} is not an lm-eval sample (no target / filtered_resps)"
            )
        if task is not None and record.get("task", task) != task:
            continue
        predictions.append(response_text(record["filtered_resps"]))
        references.append(str(record["target"]))
    if not predictions:
        raise ScoreInputError(f"no samples{f' of task {task!r}' if task else ''} in {path}")
    return predictions, references


def parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise ScoreInputError(f"--param {value!r}: write KEY=VALUE, e.g. --param word_order=2")
        try:
            params[key] = json.loads(raw)  # 2 -> int, true -> bool, "x" -> str
        except json.JSONDecodeError:
            params[key] = raw
    return params


def score_command(
    metric: Annotated[str, typer.Option(help="rouge | bleu | chrf | bertscore")],
    lang: Annotated[str, typer.Option(help="ko | en: picks the tokenizer (and BERTScore model)")],
    pred: Annotated[Path | None, typer.Option(help="Predictions, one per line")] = None,
    ref: Annotated[Path | None, typer.Option(help="References, one per line, same order")] = None,
    samples: Annotated[
        Path | None, typer.Option(help="An lm-eval samples JSONL instead of --pred/--ref")
    ] = None,
    task: Annotated[str | None, typer.Option(help="With --samples: only this task's samples")] = None,
    param: Annotated[list[str] | None, typer.Option(help="Evaluator option KEY=VALUE (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (0..1)")] = False,
    per_sample: Annotated[bool, typer.Option(help="With --json: include per-pair scores")] = False,
) -> None:
    """Score predictions against references (ROUGE, BLEU, chrF, BERTScore), no model run."""
    from app.config import get_settings
    from evaluators import registry
    from evaluators.base import EvaluatorInputError
    from evaluators.run import score_pairs

    try:
        if metric not in registry.names():
            raise ScoreInputError(f"unknown metric {metric!r}: use one of {', '.join(registry.names())}")
        if samples is not None:
            if pred is not None or ref is not None:
                raise ScoreInputError("give either --samples or --pred and --ref, not both")
            predictions, references = read_samples(samples, task)
        elif pred is None or ref is None:
            raise ScoreInputError("give --pred FILE and --ref FILE (or --samples FILE)")
        else:
            predictions, references = read_lines(pred, "predictions"), read_lines(ref, "references")
        params = parse_params(param or [])
        if metric == "bertscore":
            params = {**get_settings().bertscore_options, **params}
        result = score_pairs(metric, lang, params, predictions, references, with_samples=per_sample)
    except (ScoreInputError, EvaluatorInputError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{metric} · {lang} · {result['n']} pairs")
    for column in ("metric", "score", "± stderr", "stderr by"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, score in result["scores"].items():
        stderr = f"{score['stderr'] * 100:.2f}" if score["stderr"] is not None else "—"
        table.add_row(name, f"{score['value'] * 100:.2f}", stderr, score["stderr_method"])
    out = Console(soft_wrap=True)
    out.print(table)
    out.print(" · ".join(f"{k}={v}" for k, v in result["params"].items() if v is not None), highlight=False)
