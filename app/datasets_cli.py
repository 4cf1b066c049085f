"""`evalboard datasets`: what each benchmark can run on here, and saving hub datasets for
air-gapped workers.

`pull` builds each benchmark's real lm-eval task once with the network on: lm-eval downloads
exactly the datasets (and configs) it will read later into the cache the worker reads
(<datasets dir>/hf), so a later run finds them with the network off. A benchmark is marked as
saved only after all of its datasets loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.config import get_settings

datasets_app = typer.Typer(
    help="Benchmark data: list what is available, pull hub datasets.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


def _suites(name: str | None) -> list[Any]:
    from benchmarks.catalog import SUITES

    if name is None:
        return list(SUITES.values())
    if name not in SUITES:
        console.print(f"[red]unknown suite {name!r}; known suites: {', '.join(sorted(SUITES))}[/red]")
        raise typer.Exit(2)
    return [SUITES[name]]


def bundled_counts(tasks: list[str]) -> dict[str, int]:
    """Evaluation items per bundled task, counted by building the tasks in lm-eval (no model)."""
    from app.worker.in_process import item_counts

    return item_counts(tasks)


@datasets_app.command("list")
def list_command(
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="One suite; default: all.")] = None,
) -> None:
    """Each benchmark's hub dataset, whether it is saved here, and its bundled sample."""
    from benchmarks.datasources import describe, plan_sources

    settings = get_settings()
    datasets_dir = settings.resolved_datasets_dir
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    suites = _suites(suite)
    counts = bundled_counts(
        [spec.task_for("bundled") for s in suites for spec in s.benchmarks if spec.judge is None]
    )
    counts.update(judged_counts(suites))
    table = Table(title=f"benchmark data · setting {settings.data_source} · saved in {datasets_dir}")
    for column in ("suite", "benchmark", "hub dataset", "saved here", "bundled items", "runs on"):
        table.add_column(column)
    for current in suites:
        plan = plan_sources(current, settings.data_source, datasets_dir=datasets_dir)
        for spec in current.benchmarks:
            row = describe(spec, datasets_dir, counts.get(spec.task_for("bundled")))
            table.add_row(
                current.name,
                spec.name,
                ", ".join(row["hub_datasets"]) or _no_hub_data(spec),
                "yes" if row["saved_locally"] else "no",
                str(row["bundled_items"]),
                plan[spec.name],
            )
    Console(soft_wrap=True).print(table)


def _no_hub_data(spec: Any) -> str:
    if spec.template:  # held by its owners: an operator registers it, nothing to pull
        return f"— (private set: evalboard private add --template {spec.template})"
    return "— (our own task)"


@datasets_app.command("pull")
def pull_command(
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="One suite; default: all.")] = None,
) -> None:
    """Download the real datasets of every benchmark (run on a connected machine, then copy the
    datasets folder to air-gapped workers)."""
    settings = get_settings()
    datasets_dir = settings.resolved_datasets_dir
    from benchmarks.datasources import hub_reachable, record_pulled
    from benchmarks.environment import prepare_environment

    suites = _suites(suite)
    if not os.environ.get("HF_ENDPOINT") and not hub_reachable():
        # Fail in a second rather than after every dataset's five download retries.
        console.print(
            "[red]huggingface.co is not reachable from this machine (nothing was changed). Run "
            "`evalboard datasets pull` on a connected machine and copy its datasets folder "
            f"({datasets_dir}) to this one, or set HF_ENDPOINT to a reachable mirror.[/red]"
        )
        raise typer.Exit(1)
    prepare_environment(datasets_dir, offline=False)
    os.environ.pop("HF_DATASETS_OFFLINE", None)

    failures = 0
    for current in suites:
        for spec in current.benchmarks:
            if not spec.has_hub_data:
                console.print(f"{current.name}/{spec.name}: {_no_hub_data(spec)}; nothing to download")
                continue
            try:
                datasets = _pull_judged(spec) if spec.judge is not None else _pull_task(spec.task)
            except Exception as exc:
                failures += 1
                console.print(
                    f"[red]{current.name}/{spec.name}: could not download {spec.task}'s data: "
                    f"{type(exc).__name__}: {str(exc)[:300]}[/red]\n  Is the hub reachable from here? "
                    "Run this on a connected machine (HF_ENDPOINT selects a mirror; HF_TOKEN a gated "
                    "dataset such as GPQA), then copy the folder to the worker."
                )
                continue
            record_pulled(datasets_dir, spec.task, datasets)
            console.print(f"{current.name}/{spec.name}: saved {len(datasets)} dataset(s)")
            if spec.name == "ifeval":
                _pull_nltk(datasets_dir)
    if failures:
        raise typer.Exit(1)


def judged_counts(suites: list[Any]) -> dict[str, int]:
    """Items per judged benchmark's bundled sample (no lm-eval task behind them), keyed like
    bundled_counts (by the benchmark's task name)."""
    from benchmarks.bundled_data import split_sizes

    return {
        spec.task_for("bundled"): split_sizes(spec.judge.bundle)["test"]
        for suite in suites
        for spec in suite.benchmarks
        if spec.judge is not None
    }


def _pull_judged(spec: Any) -> list[list[str | None]]:
    """A judged benchmark's public set: its one declared file, saved where its runs read it."""
    from app.worker.in_process import pull_judged

    return pull_judged(spec, get_settings().resolved_datasets_dir)


def _pull_task(task: str) -> list[list[str | None]]:
    """Build the real lm-eval task (downloading its data); return the datasets it read."""
    from app.worker.in_process import hub_datasets

    return hub_datasets(task)


def _pull_nltk(datasets_dir: Path) -> None:
    """IFEval counts sentences with NLTK's punkt_tab, which NLTK downloads at run time."""
    import nltk

    if not nltk.download("punkt_tab", download_dir=str(datasets_dir / "nltk_data"), quiet=True):
        console.print("[yellow]could not download NLTK punkt_tab; IFEval will use the fallback[/yellow]")
