"""Fine-tune to evaluation: the hand-off time, and training speed against a plain script.

1. Training speed. The same tokenized rows (the bundled 20-example Korean/English Alpaca set,
   repeated to --rows rows), the same fresh LoRA on the same base, the same batch size, learning
   rate and number of optimizer steps (one epoch): evalboard's loop (training/train.py)
   vs a plain peft + transformers script (Trainer with DataCollatorForSeq2Seq, i.e. dynamic
   padding). Tokens/s of each, the ratio (goal >= 0.95). Order alternates over --repeats.
2. Hand-off (needs lm-eval; --skip-handoff on hosts without it). After the last optimizer step,
   evalboard saves the adapter and records the tuned model and its evaluation request in the
   database (app/worker/finetune_child.record_tuned_model, a real SQLite database here), then
   evaluates the model in memory. Baseline: save the adapter, drop the model, and evaluate the
   saved adapter as a queued job would (base and adapter loaded again). Printed for both: seconds
   from the last optimizer step to the evaluation request and to lm-eval's first model call.
   Goal: <= 1 s to the evaluation request.

Writes bench/results/finetune_to_eval.json.

    .venv/bin/python bench/finetune_to_eval.py [--rows 64] [--batch-size 4] [--device auto]
    python3 bench/finetune_to_eval.py --model-dir DIR --device cuda --skip-handoff   # GPU host
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from app.finetune.dataset import parse_examples  # noqa: E402
from benchmarks.training_params import TrainingParams  # noqa: E402
from training.examples import IGNORE, tokenize  # noqa: E402
from training.train import lora_model, train  # noqa: E402

DATASET = REPO / "tests" / "data" / "finetune" / "alpaca_ko_en.jsonl"
CACHE = REPO / ".evalboard" / "test-models"
BASE = "bundled:smollm2-135m-instruct"


def conversations(rows: int) -> list[list[dict[str, str]]]:
    examples = parse_examples(DATASET.read_bytes())
    base = [[{"role": r, "content": c} for r, c in e.messages] for e in examples]
    return [base[i % len(base)] for i in range(rows)]


def load(model_dir: str, device: str, dtype: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device)  # type: ignore[arg-type]  # a device name
    model.config.use_cache = False
    return model, tokenizer


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def ours(model_dir: str, device: str, dtype: str, rows: list, params: TrainingParams) -> dict[str, Any]:
    base, tokenizer = load(model_dir, device, dtype)
    model = lora_model(base, params)
    sync(device)
    outcome = train(model, rows, params, pad_id=tokenizer.pad_token_id)
    sync(device)
    return {
        "tokens": outcome.tokens,
        "seconds": outcome.seconds,
        "tokens_per_second": outcome.tokens / outcome.seconds,
        "model": model,
        "tokenizer": tokenizer,
        "last_step_at": outcome.last_step_at,
        "losses": outcome.losses,
    }


def plain(
    model_dir: str,
    device: str,
    dtype: str,
    rows: list,
    params: TrainingParams,
    out: Path,
    group_by_length: bool = False,
) -> dict[str, Any]:
    """What a team would write with peft and transformers alone (Trainer's defaults, unless
    group_by_length: its length-grouped sampler, the same idea as evalboard's batching)."""
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    base, tokenizer = load(model_dir, device, dtype)
    model = get_peft_model(
        base,
        LoraConfig(
            r=params.lora_r,
            lora_alpha=params.lora_alpha,
            lora_dropout=params.lora_dropout,
            task_type="CAUSAL_LM",
        ),
    )
    dataset = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels} for ids, labels in rows]
    arguments = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=params.batch_size,
        learning_rate=params.learning_rate,
        max_steps=params.max_steps or -1,
        num_train_epochs=1,
        lr_scheduler_type="linear",
        warmup_steps=0,
        logging_strategy="no",
        save_strategy="no",
        report_to=[],
        seed=params.seed,
        max_grad_norm=1.0,
        use_cpu=not device.startswith("cuda"),
        bf16=dtype == "bfloat16",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    if group_by_length:  # set only when asked: older transformers spell it group_by_length=True
        arguments.train_sampling_strategy = "group_by_length"
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE)
    trainer = Trainer(model=model, args=arguments, train_dataset=dataset, data_collator=collator)
    sync(device)
    started = time.perf_counter()
    trainer.train()
    sync(device)
    seconds = time.perf_counter() - started
    tokens = sum(len(ids) for ids, _ in rows)
    return {"tokens": tokens, "seconds": seconds, "tokens_per_second": tokens / seconds}


def first_call_timer(lm: Any) -> dict[str, float]:
    """Record when lm-eval first asks the model for anything."""
    seen: dict[str, float] = {}
    for name in ("loglikelihood", "loglikelihood_rolling", "generate_until"):
        original = getattr(lm, name)

        def timed(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.setdefault("first_call", time.perf_counter())
            return _original(*args, **kwargs)

        setattr(lm, name, timed)
    return seen


EVAL_OPTIONS: dict[str, Any] = {"limit": 2, "data_source": "bundled", "response_cache_dir": None}


def prepare_handoff(dtype: str, work: Path) -> str:
    """What a worker's child has done by the time training ends, done here before training too:
    the database holds the fine-tune (the child has written its contamination report, so its
    connection is open) and lm-eval is imported with the suite's tasks built once (a warm-up
    evaluation of the base), so neither design is charged for those one-time costs."""
    from app.db import session_scope
    from app.migrate import upgrade
    from app.tables import FineTune, LlmModel
    from benchmarks.catalog import get_suite
    from benchmarks.target import ModelTarget
    from harness.runner import run_suite

    url = f"sqlite:///{work / 'bench.db'}"
    upgrade(url)
    with session_scope(url) as session:
        base = LlmModel(reference=BASE, source="bundled", name="base", precision=dtype, model_type="chat")
        session.add(base)
        session.flush()
        finetune = FineTune(
            id=1,
            base_model_id=base.id,
            base_reference=BASE,
            dataset_name="bench",
            params={},
            suites=["smoke"],
            status="training",
            losses=[],
        )
        session.add(finetune)
    warm = ModelTarget(BASE, "bundled", "main", None, dtype, use_chat_template=True)
    options = {**EVAL_OPTIONS, "datasets_dir": work / "datasets"}
    run_suite(warm, get_suite("smoke"), cache_dir=CACHE, output_dir=work / "warm-up", **options)
    return url


def adapter_target(folder: Path, dtype: str) -> Any:
    from benchmarks.target import ModelTarget

    return ModelTarget(
        str(folder),
        "local",
        "main",
        None,
        dtype,
        weight_type="adapter",
        base_model=BASE,
        use_chat_template=True,
    )


def handoff(run: dict[str, Any], url: str, device: str, work: Path) -> dict[str, Any]:
    import harness.runner as harness
    from app.worker.finetune_child import record_tuned_model
    from benchmarks.catalog import get_suite
    from training.pipeline import Prepared, in_memory_lm
    from training.train import save_adapter

    suite = get_suite("smoke")
    dtype = run["dtype"]
    spec = {"database_url": url, "finetune_id": 1, "suites": ["smoke"], "worker_id": "bench"}
    options = {**EVAL_OPTIONS, "datasets_dir": work / "datasets"}

    # evalboard: save, record the request, evaluate the model still in memory.
    target = adapter_target(work / "adapter", dtype)
    save_adapter(run["model"], run["tokenizer"], work / "adapter")
    record_tuned_model(spec, target, work / "adapter", [])
    recorded = time.perf_counter()
    prepared = Prepared(run["model"], run["tokenizer"], device, None, None)  # type: ignore[arg-type]
    loaded = in_memory_lm(prepared, target, cache_dir=CACHE, batch_size=8)
    seen = first_call_timer(loaded.lm)
    harness.run_suite(
        target, suite, cache_dir=CACHE, output_dir=work / "in-memory", preloaded=loaded, **options
    )
    in_memory = {
        "to_request": recorded - run["last_step_at"],
        "to_first_call": seen["first_call"] - run["last_step_at"],
    }

    # Baseline: save, drop the model, evaluate the saved adapter the way a queued job loads it.
    last_step = time.perf_counter()  # the same starting point: the weights just trained
    save_adapter(run["model"], run["tokenizer"], work / "adapter-reload")
    del run["model"], loaded, prepared
    gc.collect()
    original_load = harness.load_model
    timers: list[dict[str, float]] = []

    def load_and_time(*args: Any, **kwargs: Any) -> Any:
        loaded_model = original_load(*args, **kwargs)
        timers.append(first_call_timer(loaded_model.lm))
        return loaded_model

    harness.load_model = load_and_time
    try:
        reload_target = adapter_target(work / "adapter-reload", dtype)
        harness.run_suite(reload_target, suite, cache_dir=CACHE, output_dir=work / "reload", **options)
    finally:
        harness.load_model = original_load
    reload = {"to_first_call": timers[0]["first_call"] - last_step}
    return {"in_memory": in_memory, "save_and_reload": reload}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model-dir", help="A HF model folder (default: the bundled model, converted)")
    parser.add_argument("--skip-handoff", action="store_true")
    parser.add_argument(
        "--plain-group-by-length", action="store_true", help="Give the plain script Trainer's group_by_length"
    )
    args = parser.parse_args()
    import torch

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = "bfloat16" if device.startswith("cuda") else "float32"
    if args.model_dir:
        model_dir = args.model_dir
    else:
        from benchmarks.bundled import BUNDLED_MODELS, ensure_converted

        model_dir = str(ensure_converted(BUNDLED_MODELS["smollm2-135m-instruct"], CACHE))
    _, tokenizer = load(model_dir, "cpu", "float32")
    rows = tokenize(tokenizer, conversations(args.rows), 1024).rows
    steps = -(-len(rows) // args.batch_size)  # one epoch, so both loops train on exactly these rows
    params = TrainingParams(max_steps=steps, batch_size=args.batch_size, learning_rate=2e-4, lora_dropout=0.0)
    work = Path(tempfile.mkdtemp(prefix="evalboard-ft-bench-"))
    url = "" if args.skip_handoff else prepare_handoff(dtype, work)
    print(
        f"{len(rows)} rows, {sum(len(r[0]) for r in rows)} tokens, {steps} steps of {args.batch_size}, "
        f"{device} {dtype}, torch threads {torch.get_num_threads()}",
        flush=True,
    )
    figures: dict[str, list[float]] = {"ours": [], "plain": []}
    # Repeat 0 is a warm-up for both (not counted): the CPU's kernels are picked and cached per
    # tensor shape, so whichever loop first meets a batch shape pays for it.
    for repeat in range(args.repeats + 1):
        order = ("ours", "plain") if repeat % 2 == 0 else ("plain", "ours")
        for name in order:
            if name == "ours":
                result = ours(model_dir, device, dtype, rows, params)
                del result["model"]
            else:
                result = plain(
                    model_dir,
                    device,
                    dtype,
                    rows,
                    params,
                    work / f"plain-{repeat}",
                    args.plain_group_by_length,
                )
            if repeat:
                figures[name].append(result["tokens_per_second"])
            label = f"run {repeat}" if repeat else "warm-up"
            print(
                f"  {name:5s} {label}: {result['tokens']} tokens in {result['seconds']:.2f}s "
                f"= {result['tokens_per_second']:.1f} tokens/s",
                flush=True,
            )
    ratio = statistics.median(figures["ours"]) / statistics.median(figures["plain"])
    report: dict[str, Any] = {
        "device": device,
        "dtype": dtype,
        "rows": len(rows),
        "steps": steps,
        "batch_size": args.batch_size,
        "tokens_per_second": {k: statistics.median(v) for k, v in figures.items()},
        "runs": figures,
        "speed_ratio": ratio,
        "speed_goal": 0.95,
        "plain_group_by_length": args.plain_group_by_length,
    }
    print(
        f"training tokens/s: evalboard {report['tokens_per_second']['ours']:.1f} vs plain peft+transformers "
        f"{report['tokens_per_second']['plain']:.1f}: ratio {ratio:.3f} (goal >= 0.95)"
    )
    if not args.skip_handoff:
        # A short run whose last optimizer step is followed at once by the measured hand-off.
        last_run = ours(model_dir, device, dtype, rows, params.model_copy(update={"max_steps": 4}))
        measured = handoff({**last_run, "dtype": dtype}, url, device, work)
        report["handoff"] = measured
        memory, reload = measured["in_memory"], measured["save_and_reload"]
        print(
            f"last optimizer step -> evaluation request recorded: {memory['to_request']:.3f}s (goal <= 1 s)"
        )
        print(
            f"last optimizer step -> lm-eval's first model call: in memory {memory['to_first_call']:.2f}s, "
            f"save-and-reload {reload['to_first_call']:.2f}s"
        )
    out = REPO / "bench" / "results" / "finetune_to_eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
