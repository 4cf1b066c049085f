"""`evalboard judge`: grade a file of items with the configured judge, in this process.

    evalboard judge pairs.jsonl --method pairwise --lang ko --output verdicts.json
    evalboard judge answers.jsonl --method single --lang en
    evalboard judge summaries.jsonl --method geval --lang ko --json

The same file format, checks and grading as POST /api/v1/judge (app/judging/items.py,
harness/judge_file.py), run on the operator's machine instead of queued: no server, account or
quota, and no item-count bound. The judge is the one this machine's settings name
(EVALBOARD_JUDGE_BASE_URL and EVALBOARD_JUDGE_MODEL, else the bundled model behind the local
adapter), with its replies cached beside the response cache as `evalboard eval` keeps them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True, soft_wrap=True)


def _rows(summary: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The summary as (name, value) lines: nested scores as 'value ± stderr'."""
    rows: list[tuple[str, str]] = []
    for name, value in summary.items():
        if isinstance(value, dict) and set(value) == {"value", "stderr"}:
            stderr = "—" if value["stderr"] is None else f"{value['stderr']:.4f}"
            rows.append((prefix + name, f"{value['value']:.4f} ± {stderr}"))
        elif isinstance(value, dict):
            rows.extend(_rows(value, f"{prefix}{name}."))
        elif isinstance(value, float):
            rows.append((prefix + name, f"{value:.4f}"))
        else:
            rows.append((prefix + name, "—" if value is None else str(value)))
    return rows


def judge_command(
    file: Annotated[Path, typer.Argument(help="JSON Lines, one item per line")],
    method: Annotated[str, typer.Option(help="pairwise | single | geval")],
    lang: Annotated[str, typer.Option(help="ko | en: the language of the judge's prompts")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the results here")] = None,
    korean_penalty: Annotated[
        bool | None,
        typer.Option(
            "--korean-penalty/--no-korean-penalty", help="single: default EVALBOARD_JUDGE_KOREAN_PENALTY"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results document as JSON")] = False,
) -> None:
    """Grade a file of items with the configured judge (pairwise, single or G-Eval), in process."""
    from app.config import get_settings
    from app.judging.items import JudgeFileError, parse
    from app.worker.in_process import grade_file as grade
    from app.worker.run_settings import judge_setup
    from benchmarks.target import PermanentRunError

    settings = get_settings()
    try:
        parsed = parse(file.read_bytes(), method, lang)
    except OSError as exc:
        console.print(f"[red]cannot read {file}: {exc.strerror or exc}[/red]")
        raise typer.Exit(2) from exc
    except JudgeFileError as exc:
        console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(2) from exc
    options = settings.judge_options
    cache = settings.resolved_response_cache_dir  # no service database here: a file beside the answers
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    options.update(cache_url=f"sqlite:///{cache / 'judge.sqlite'}" if cache else None, cache_create=True)
    try:
        result = grade(method, lang, parsed.items, judge_setup(options), settings.resolved_model_cache_dir,
                       korean_penalty=korean_penalty)  # fmt: skip
    except PermanentRunError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    document = json.dumps(result, ensure_ascii=False, indent=2)
    if output is not None:
        output.write_text(document, encoding="utf-8")
        console.print(f"wrote {output}")
    if as_json:
        print(document)
        return
    judge = result["judge"]
    table = Table(title=f"{method} · {lang} · {result['n']} items · judge {judge['judge_model']}")
    table.add_column("summary")
    table.add_column("value", justify="right")
    for name, value in _rows(result["summary"]):
        table.add_row(name, value)
    usage = judge["usage"]
    table.caption = f"judge calls {usage.get('calls')} · cache hits {usage.get('cache_hits')}"
    Console(soft_wrap=True).print(table)
