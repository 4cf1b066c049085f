"""The `evalboard` command: serve | worker | submit | eval | finetune | score | judge | db | private |
datasets | users | tokens."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.config import Settings, get_settings
from app.datasets_cli import datasets_app
from app.finetune_cli import finetune_command
from app.judge_cli import judge_command
from app.private_cli import private_app
from app.procutil import die_with_parent
from app.score_cli import score_command
from app.users_cli import tokens_app, users_app

app = typer.Typer(
    help="evalboard: LLM evaluation harness and leaderboard.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(private_app, name="private")
app.add_typer(datasets_app, name="datasets")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("score")(score_command)
app.command("finetune")(finetune_command)
app.command("judge")(judge_command)
console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs
DEMO_MODEL = "bundled:smollm2-135m-instruct"


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (serve and worker do this automatically)."""
    from app.migrate import upgrade

    upgrade(revision=revision)
    console.print(f"database at {get_settings().resolved_database_url.split('@')[-1]} is at {revision}")


@app.command()
def worker(
    max_jobs: Annotated[int | None, typer.Option(help="Stop after this many jobs.")] = None,
    exit_when_idle: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
) -> None:
    """Claim and run jobs until stopped (SIGTERM finishes or releases the current job)."""
    from app.migrate import upgrade
    from app.worker.loop import WorkerAlreadyRunning, WorkerSettingsError, run_worker

    _logging()
    settings = get_settings()
    upgrade()
    try:
        run_worker(settings, max_jobs=max_jobs, exit_when_idle=exit_when_idle)
    except (WorkerAlreadyRunning, WorkerSettingsError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _submit_demo_if_empty() -> None:
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.submissions.schemas import SubmissionIn
    from app.submissions.service import submit
    from app.tables import EvalRequest

    settings = get_settings()
    with session_scope(settings.resolved_database_url) as session:
        if session.scalar(select(func.count()).select_from(EvalRequest)):
            return
        demo = SubmissionIn(model=DEMO_MODEL, precision="float32", suites=["smoke"])
        out = submit(session, settings, demo, None)  # None: the operator, at the command line
        console.print(f"demo: queued {DEMO_MODEL} on smoke (request {out.request_ids[0]})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: EVALBOARD_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: EVALBOARD_PORT")] = None,
    demo: Annotated[
        bool, typer.Option(help="Queue the bundled model on smoke when the board is empty.")
    ] = False,
    local_worker: Annotated[bool, typer.Option(help="Run one local worker beside the API.")] = True,
) -> None:
    """Serve the API and pages, with one local worker."""
    import uvicorn

    from app.main import create_app
    from app.migrate import upgrade

    _logging()
    settings = get_settings()
    upgrade()
    if demo:
        _submit_demo_if_empty()
    companions = [lambda: local_worker_process(settings)] if local_worker else []
    base = f"http://{host or settings.host}:{port or settings.port}"
    _announce_first_admin(settings, base)
    console.print(f"evalboard on {base}  (API docs at /docs)")
    uvicorn.run(
        create_app(settings, companions=companions),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


def _announce_first_admin(settings: Settings, base: str) -> None:
    from app.auth.bootstrap import create_first_admin

    first = create_first_admin(settings)
    if first is None:
        return
    console.print(
        f"first start: created the administrator {first.name!r}. This is shown once.\n"
        f"  sign in (one use, 24 h): {base}{first.link_path}\n"
        f"  API token: {first.token}\n"
        "  add people with `evalboard users add NAME --role member --password-stdin`"
    )


@contextmanager
def local_worker_process(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """One `evalboard worker` beside the API: a separate process, so the API never imports torch
    and a worker crash leaves the API up. Stopped (its job finished or released) before serve exits."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        # If serve is SIGKILLed, the worker still gets SIGTERM and releases its job.
        preexec_fn=lambda: die_with_parent(signal.SIGTERM),
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=settings.worker_shutdown_grace_seconds + 15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@app.command()
def submit(
    model: str,
    suite: Annotated[list[str], typer.Option("--suite", "-s", help="Repeat for several suites.")] = ["smoke"],  # noqa: B006
    url: Annotated[str, typer.Option(help="evalboard server")] = "http://127.0.0.1:8000",
    revision: str | None = None,
    precision: str = "bfloat16",
    weight_type: str = "original",
    base_model: str | None = None,
    model_type: str | None = None,
    chat_template: Annotated[bool | None, typer.Option("--chat-template/--no-chat-template")] = None,
    token: Annotated[
        str | None, typer.Option(envvar="EVALBOARD_TOKEN", help="API token (evb_...) of a member")
    ] = None,
) -> None:
    """Submit a model to a running server over its REST API."""
    import httpx

    body = {
        "model": model,
        "revision": revision,
        "precision": precision,
        "weight_type": weight_type,
        "base_model": base_model,
        "model_type": model_type,
        "use_chat_template": chat_template,
        "suites": suite,
    }
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{url.rstrip('/')}/api/v1/models", json=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {url}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if response.status_code != 201:
        console.print(f"[red]{response.status_code}: {response.json().get('detail', response.text)}[/red]")
        raise typer.Exit(1)
    print(json.dumps(response.json()))


@app.command("eval")
def eval_command(
    model: str,
    suite: Annotated[str, typer.Option("--suite", "-s")] = "smoke",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write scores as JSON here.")] = None,
    precision: str = "float32",
    revision: str | None = None,
    chat_template: Annotated[bool | None, typer.Option("--chat-template/--no-chat-template")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Default: EVALBOARD_WORKER_BATCH_SIZE")] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="auto or a backend name (hf, vllm, ...). Default: EVALBOARD_WORKER_BACKEND"),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Items per benchmark (for quick checks).")] = None,
    artifacts: Annotated[Path | None, typer.Option(help="Keep lm-eval results and samples here.")] = None,
    data_source: Annotated[
        str | None, typer.Option(help="auto | hub | bundled. Default: EVALBOARD_DATA_SOURCE")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the response cache.")] = False,
    max_gen_toks: Annotated[
        int | None, typer.Option(help="Cap generation length (quick checks; changes the numbers).")
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(help="openai: models only: the served model's tokenizer (folder, repo, bundled:)"),
    ] = None,
) -> None:
    """Evaluate a model once, without a server or database; print a table."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from app.errors import AppError
    from app.submissions.references import resolve
    from benchmarks.catalog import get_suite

    settings = get_settings()
    try:
        suite_spec = get_suite(suite, private_dir=settings.resolved_private_dir)
        resolved = resolve(model, revision, settings, None)  # the operator may name any local folder
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(2) from exc
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    from app.worker.in_process import run_suite
    from app.worker.run_settings import harness_arguments, suite_tasks_dir
    from benchmarks.target import ModelTarget, PermanentRunError

    use_chat = chat_template if chat_template is not None else resolved.chat_template_default()
    target = ModelTarget(
        reference=resolved.reference,
        source=resolved.source,
        revision=resolved.revision,
        commit_sha=resolved.commit_sha,
        precision=precision,
        use_chat_template=use_chat,
        tokenizer=tokenizer,
    )
    options = settings.harness_kwargs
    options.update(backend=backend or options["backend"], batch_size=batch_size or options["batch_size"])
    if data_source:
        options["data_source"] = data_source
    if max_gen_toks:
        options["max_gen_toks"] = max_gen_toks
    if no_cache:
        options["response_cache_dir"] = None
    # No service database here: judge replies are cached in a file beside the response cache.
    judge_cache = options["response_cache_dir"]
    if judge_cache:
        Path(judge_cache).mkdir(parents=True, exist_ok=True)
    options["judge"].update(
        cache_url=f"sqlite:///{Path(judge_cache) / 'judge.sqlite'}" if judge_cache else None,
        cache_create=True,
    )
    output_dir = artifacts or Path(tempfile.mkdtemp(prefix="evalboard-eval-"))
    started = time.monotonic()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task_id = bar.add_task(f"{suite} · starting", total=1.0)

        def on_progress(fraction: float, name: str | None) -> None:
            bar.update(task_id, completed=fraction, description=f"{suite} · {name or 'done'}")

        try:
            outcome = run_suite(
                target,
                suite_spec,
                cache_dir=settings.resolved_model_cache_dir,
                output_dir=output_dir,
                limit=limit,
                tasks_dir=suite_tasks_dir(suite_spec, settings.resolved_private_dir),
                on_progress=on_progress,
                **harness_arguments(options),
            )
        except PermanentRunError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    table = Table(title=f"{resolved.name} · {suite}")
    for column in ("benchmark", "metric", "score", "± stderr", "n"):
        table.add_column(column, justify="right" if column != "benchmark" else "left")
    for metric in outcome.metrics:
        if metric.is_primary:
            stderr = f"{metric.stderr:.4f}" if metric.stderr is not None else "—"
            table.add_row(metric.benchmark, metric.metric, f"{metric.value:.4f}", stderr, str(metric.n))
    primary = outcome.primary()
    average = sum(m.value for m in primary.values()) / len(primary)
    table.caption = (
        f"average {average:.4f} · {outcome.data_source} data · {time.monotonic() - started:.0f}s"
        f" · model calls {outcome.model_calls if outcome.model_calls is not None else 'n/a'}"
        f" · artifacts in {output_dir}"
    )
    Console().print(table)
    if output is not None:
        report = {
            "model": resolved.reference,
            "suite": suite,
            "average": average,
            "benchmarks": {
                name: {"metric": m.metric, "score": m.value, "stderr": m.stderr, "n": m.n}
                for name, m in primary.items()
            },
            "metrics": [
                {
                    "benchmark": m.benchmark,
                    "task": m.task,
                    "metric": m.metric,
                    "value": m.value,
                    "stderr": m.stderr,
                    "n": m.n,
                    "is_primary": m.is_primary,
                    "data_source": m.provenance.get("data_source"),
                    "reproduce": m.provenance.get("reproduce"),
                    "evaluators": m.provenance.get("evaluators"),
                    "judge": m.provenance.get("judge"),
                }
                for m in outcome.metrics
            ],
            "data_source": outcome.data_source,
            "model_calls": outcome.model_calls,
            "model_loaded": outcome.model_loaded,
            "provenance": next(iter(primary.values())).provenance,
            "results_path": str(outcome.results_path),
            "samples_path": str(outcome.samples_path),
        }
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        console.print(f"wrote {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
