"""The `lm_eval` command line that reproduces a result: what users run to check our numbers."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from harness.backends.base import ReproduceCall

# Passed to lm-eval explicitly (they are its defaults today) so what each result records is what ran.
SEEDS = {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}
# Arguments that describe where the model runs, not what it computes; printed as their own flags.
PLACEMENT_ARGS = ("device", "batch_size")


def reproduce_command(
    tasks: list[str],
    num_fewshot: int,
    args: dict[str, Any],
    apply_chat_template: bool,
    backend: str = "hf",
    *,
    include_paths: list[Path],
    limit: int | None = None,
    max_gen_toks: int | None = None,
    model_name: str | None = None,
    model_args_text: str | None = None,
) -> str:
    """`model_name` overrides the lm-eval model type where it differs from our backend name
    (the openai backend reproduces as local-completions or local-chat-completions)."""
    model_args = model_args_text or ",".join(f"{k}={v}" for k, v in args.items() if k not in PLACEMENT_ARGS)
    seeds = ",".join(str(SEEDS[k]) for k in ("random", "numpy", "torch", "fewshot"))
    parts = [
        "lm_eval", "--model", model_name or backend, "--model_args", model_args,
        "--include_path", ",".join(str(path) for path in include_paths), "--tasks", ",".join(tasks),
        "--num_fewshot", str(num_fewshot),
        "--batch_size", str(args.get("batch_size", 8)),
        *(["--device", str(args["device"])] if "device" in args else []),
        *(["--limit", str(limit)] if limit is not None else []),
        *(["--gen_kwargs", f"max_gen_toks={max_gen_toks}"] if max_gen_toks else []),
        "--seed", seeds,
    ]  # fmt: skip
    if apply_chat_template:
        parts += ["--apply_chat_template", "--fewshot_as_multiturn"]
    return shlex.join(parts)


def call_command(backend: str, args: dict[str, Any], call: ReproduceCall) -> str:
    """A local backend's command: the whole call (every task of it) with the LM's own arguments."""
    return reproduce_command(
        call.tasks, call.num_fewshot, args, call.apply_chat_template, backend,
        include_paths=call.include_paths, limit=call.limit, max_gen_toks=call.max_gen_toks,
    )  # fmt: skip
