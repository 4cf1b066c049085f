"""`evalboard finetune BASE --data FILE`: train a LoRA adapter here and evaluate it at once, in
the same process with the weights still in memory; no server or database. A server's worker runs
the same code (app/worker/finetune_child.py) for POST /api/v1/finetunes."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app.config import get_settings
from app.errors import AppError, describe_validation_errors
from app.worker.finetune_child import Recorder
from benchmarks.target import ModelTarget

console = Console(stderr=True, soft_wrap=True)


class ConsoleRecorder(Recorder):
    """Progress lines on the terminal; the 'requests' to evaluate are just the suites, numbered."""

    def __init__(self, suites: list[str]) -> None:
        self.suites = suites
        self.last_step = 0
        self.last_print = 0.0
        self.phase: str | None = None

    def progress(self, progress: dict[str, Any]) -> None:
        step = int(progress.get("step", 0))
        now = time.monotonic()
        final = step and step == progress.get("total_steps")
        if step > self.last_step and (now - self.last_print >= 2 or final or step == 1):
            self.last_step, self.last_print = step, now
            loss = progress["losses"][-1][1] if progress.get("losses") else float("nan")
            console.print(
                f"step {step}/{progress['total_steps']}  loss {loss:.4f}  "
                f"{progress.get('tokens_per_second', 0):.0f} tok/s  eta {progress.get('eta_seconds', 0):.0f}s"
            )
        elif progress.get("phase") in ("loading", "evaluating") and progress.get("phase") != self.phase:
            console.print(f"[dim]{progress['phase']}…[/dim]")
        self.phase = progress.get("phase")

    def contamination(self, report: dict[str, Any], examples: int) -> None:
        found = report["overlap_count"]
        colour = "yellow" if found else "green"
        console.print(
            f"[{colour}]contamination: {found} overlap(s) between {examples} examples and "
            f"{report['items_checked']} benchmark items (13-grams)[/{colour}]"
        )
        for overlap in report["overlaps"][:10]:
            console.print(
                f"  line {overlap['line']}: {overlap['benchmark']} item {overlap['item']}: "
                f"“{overlap['ngram']}”"
            )

    def stopped(self, adapter_dir: Path) -> None:
        console.print(f"stopped; adapter so far in {adapter_dir}")

    def trained(self, target: ModelTarget, adapter_dir: Path, flags: list[str]) -> list[tuple[int, str]]:
        console.print(f"adapter saved in {adapter_dir}; evaluating it in memory")
        return list(enumerate(self.suites, start=1))


def finetune_command(
    base: Annotated[str, typer.Argument(help="bundled:NAME, a model folder, or a hub id")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Alpaca-style or chat JSON / JSONL")],
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps (overrides --epochs)")] = None,
    suite: Annotated[
        list[str] | None, typer.Option("--suite", "-s", help="Evaluate afterwards (repeat)")
    ] = None,
    epochs: float = 1.0,
    lora_r: int = 8,
    lora_alpha: int = 16,
    lora_dropout: float = 0.05,
    target_modules: Annotated[str | None, typer.Option(help="Comma-separated, e.g. q_proj,v_proj")] = None,
    learning_rate: float = 2e-4,
    batch_size: int = 4,
    grad_accum: int = 1,
    max_seq_length: int = 1024,
    packing: bool = False,
    quantization: Annotated[str, typer.Option(help="none | 4bit (QLoRA, CUDA only)")] = "none",
    precision: str = "float32",
    limit: Annotated[int | None, typer.Option(help="Items per benchmark in the evaluation")] = None,
    output_dir: Annotated[Path | None, typer.Option(help="Adapter and artifacts here")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write a JSON report here")] = None,
) -> None:
    """Fine-tune BASE with LoRA on --data, then evaluate the tuned model on each --suite."""
    from app.finetune.dataset import DatasetError, parse_examples
    from app.finetune.schemas import FinetuneIn
    from app.submissions.references import resolve
    from app.submissions.service import check_suites
    from app.worker.finetune_child import run_finetune
    from benchmarks.target import PermanentRunError

    settings = get_settings()
    suites = suite or ["smoke"]
    try:
        body = FinetuneIn(
            base_model=base, max_steps=max_steps, suites=suites, epochs=epochs, lora_r=lora_r,
            lora_alpha=lora_alpha, lora_dropout=lora_dropout, learning_rate=learning_rate,
            target_modules=[m.strip() for m in target_modules.split(",")] if target_modules else None,
            batch_size=batch_size, grad_accum=grad_accum, max_seq_length=max_seq_length, packing=packing,
            quantization=quantization, precision=precision,  # validated by FinetuneIn
        )  # fmt: skip
        check_suites(body.suites, settings.resolved_private_dir)
        resolved = resolve(base, None, settings, None)  # the operator, at the command line
        examples = parse_examples(data.read_bytes(), max_examples=settings.finetune_max_examples)
    except ValidationError as exc:
        console.print(f"[red]{describe_validation_errors(exc.errors())}[/red]")
        raise typer.Exit(2) from None
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    except (DatasetError, OSError) as exc:
        console.print(f"[red]{data}: {exc}[/red]")
        raise typer.Exit(2) from None
    folder = output_dir or Path(tempfile.mkdtemp(prefix="evalboard-finetune-"))
    recorder = ConsoleRecorder(body.suites)
    console.print(f"{len(examples)} examples; base {resolved.reference}; output in {folder}")
    spec = {
        "finetune_id": None,
        "base": {
            "reference": resolved.reference,
            "source": resolved.source,
            "revision": resolved.revision,
            "commit_sha": resolved.commit_sha,
            "use_chat_template": resolved.chat_template_default(),
        },
        "params": {**body.training_params().model_dump(), "precision": body.precision},
        "suites": body.suites,
        "dataset_path": str(data),
        "output_dir": str(folder),
        "cache_dir": str(settings.resolved_model_cache_dir),
        "harness": {**settings.harness_kwargs, "judge": None},
        "private_dir": str(settings.resolved_private_dir),
        "limit": limit,
    }
    try:
        result = run_finetune(spec, folder, recorder)
    except PermanentRunError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    train = result["train"]
    console.print(
        f"trained {train['steps']} steps, {train['tokens']} tokens, {train['tokens_per_second']} tok/s; "
        f"loss on the training rows {train['loss_before']:.4f} -> {train.get('loss_after', float('nan')):.4f}"
    )
    if result.get("stopped"):
        raise typer.Exit(1)
    console.print(f"first evaluation started {result['handoff_seconds']:.3f}s after the last optimizer step")
    for suite_name, evaluated in zip(body.suites, result["requests"], strict=True):
        table = Table(title=f"{resolved.name} + LoRA · {suite_name}")
        for column in ("benchmark", "metric", "score", "± stderr", "n"):
            table.add_column(column, justify="left" if column == "benchmark" else "right")
        for metric in evaluated["metrics"]:
            if metric["is_primary"]:
                stderr = f"{metric['stderr']:.4f}" if metric["stderr"] is not None else "—"
                table.add_row(
                    metric["benchmark"], metric["metric"], f"{metric['value']:.4f}", stderr, str(metric["n"])
                )
        Console().print(table)
    if output is not None:
        report = {key: result[key] for key in ("train", "handoff_seconds", "contamination", "adapter_dir")}
        report["suites"] = {
            name: [m for m in evaluated["metrics"] if m["is_primary"]]
            for name, evaluated in zip(body.suites, result["requests"], strict=True)
        }
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        console.print(f"wrote {output}")
