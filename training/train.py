"""The LoRA optimizer loop: dynamic padding, gradient accumulation, progress, stop and checkpoints.

A plain loop rather than transformers' Trainer: the job needs its own progress file, a stop flag
checked between steps, and the trained PeftModel handed straight to the evaluation. Batches are
padded to their longest row only (padding every row to max_seq_length made CPU LoRA 6x slower).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.target import PermanentRunError
from benchmarks.training_params import TrainingParams
from training.examples import IGNORE


@dataclass(frozen=True)
class StepReport:
    step: int
    total_steps: int
    loss: float  # mean over the step's batches
    tokens: int  # tokens trained so far
    elapsed: float
    tokens_per_second: float
    eta_seconds: float


@dataclass
class TrainOutcome:
    model: Any  # the PeftModel, in memory, in eval mode
    steps: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    stopped: bool = False  # asked to stop before the last step
    last_step_at: float = 0.0  # time.perf_counter() after the last optimizer step


class TrainingError(PermanentRunError):
    """Settings that cannot train this model (unknown target modules, QLoRA without CUDA)."""


GROUP_BATCHES = 8  # batches per length-sorted group


def batches(
    rows: list[tuple[list[int], list[int]]], batch_size: int, seed: int, epoch: int
) -> list[list[int]]:
    """One epoch's batches of row indices. Shuffled, then sorted by length within groups of
    GROUP_BATCHES batches, and the batches shuffled again: rows of a batch have similar lengths, so
    dynamic padding pads little (Korean and English rows differ a lot in tokens), while every
    batch still mixes rows from across the data set."""
    generator = random.Random(seed + epoch)
    order = list(range(len(rows)))
    generator.shuffle(order)
    group = batch_size * GROUP_BATCHES
    result: list[list[int]] = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda i: len(rows[i][0]), reverse=True)
        result.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    generator.shuffle(result)
    return result


def collate(rows: list[tuple[list[int], list[int]]], pad_id: int, device: Any) -> dict[str, Any]:
    """Right-pad to the longest row of this batch."""
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = [ids + [pad_id] * (width - len(ids)) for ids, _ in rows]
    labels = [labels + [IGNORE] * (width - len(labels)) for _, labels in rows]
    mask = [[1] * len(row) + [0] * (width - len(row)) for row, _ in rows]
    return {
        "input_ids": torch.tensor(ids, device=device),
        "labels": torch.tensor(labels, device=device),
        "attention_mask": torch.tensor(mask, device=device),
    }


def total_steps(params: TrainingParams, rows: int) -> int:
    per_epoch = math.ceil(math.ceil(rows / params.batch_size) / params.grad_accum)
    return params.max_steps or max(1, math.ceil(per_epoch * params.epochs))


LOSS_PROBE_ROWS = 64


def mean_loss(model: Any, rows: list[tuple[list[int], list[int]]], batch_size: int, pad_id: int) -> float:
    """Token-weighted loss over up to LOSS_PROBE_ROWS rows, without dropout or gradients: the
    before/after figure that says whether training fitted the data (single steps' losses are noisy)."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    probe = rows[:LOSS_PROBE_ROWS]
    with torch.no_grad():
        for start in range(0, len(probe), batch_size):
            batch = collate(probe[start : start + batch_size], pad_id, device)
            tokens = int((batch["labels"][:, 1:] != IGNORE).sum())
            total += float(model(**batch).loss) * tokens
            count += tokens
    model.train(was_training)
    return total / max(count, 1)


def lora_model(base: Any, params: TrainingParams) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=params.lora_r,
        lora_alpha=params.lora_alpha,
        lora_dropout=params.lora_dropout,
        target_modules=params.target_modules,
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(base, config)
    except ValueError as exc:  # peft names the modules it could not find
        raise TrainingError(f"LoRA target_modules do not fit this model: {exc}") from exc


def train(
    model: Any,
    rows: list[tuple[list[int], list[int]]],
    params: TrainingParams,
    *,
    pad_id: int,
    on_step: Callable[[StepReport], None] = lambda _report: None,
    should_stop: Callable[[], bool] = lambda: False,
    checkpoint: Callable[[Any, int], object] | None = None,
    checkpoint_every: int = 0,
) -> TrainOutcome:
    """Train `model` (already a PeftModel) in place. Returns when the steps are done or
    `should_stop()` says so between steps (the caller then saves what it has)."""
    import torch

    device = next(model.parameters()).device
    torch.manual_seed(params.seed)
    steps = total_steps(params, len(rows))
    trainable = [p for p in model.parameters() if p.requires_grad]
    # The fused kernel on CUDA is what transformers' Trainer picks there too.
    fused = device.type == "cuda" and all(
        p.dtype in (torch.float32, torch.float16, torch.bfloat16) for p in trainable
    )
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0, fused=fused or None)

    def schedule(step: int) -> float:  # linear warm-up, then linear decay to zero
        if step < params.warmup_steps:
            return (step + 1) / (params.warmup_steps + 1)
        return max(0.0, (steps - step) / max(1, steps - params.warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    outcome = TrainOutcome(model=model, steps=0)
    started = time.perf_counter()
    epoch, queue = 0, batches(rows, params.batch_size, params.seed, 0)
    for step in range(1, steps + 1):
        if should_stop():
            outcome.stopped = True
            break
        step_loss = 0.0
        for _ in range(params.grad_accum):
            if not queue:
                epoch += 1
                queue = batches(rows, params.batch_size, params.seed, epoch)
            batch = collate([rows[i] for i in queue.pop(0)], pad_id, device)
            loss = model(**batch).loss / params.grad_accum
            loss.backward()
            step_loss += float(loss.detach())
            outcome.tokens += int(batch["attention_mask"].sum())
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        outcome.steps = step
        outcome.last_step_at = time.perf_counter()
        elapsed = outcome.last_step_at - started
        outcome.losses.append((step, step_loss))
        on_step(
            StepReport(
                step=step,
                total_steps=steps,
                loss=step_loss,
                tokens=outcome.tokens,
                elapsed=elapsed,
                tokens_per_second=outcome.tokens / elapsed if elapsed else 0.0,
                eta_seconds=elapsed / step * (steps - step),
            )
        )
        if checkpoint is not None and checkpoint_every and step % checkpoint_every == 0 and step < steps:
            checkpoint(model, step)
    outcome.seconds = time.perf_counter() - started
    model.eval()
    return outcome


def save_adapter(model: Any, tokenizer: Any, folder: Path) -> Path:
    """Write the adapter (and the tokenizer, so the folder is self-describing) atomically:
    a reader never sees a half-written adapter."""
    import shutil

    temporary = folder.with_name(folder.name + ".partial")
    if temporary.exists():
        shutil.rmtree(temporary)
    model.save_pretrained(temporary)
    tokenizer.save_pretrained(temporary)
    if folder.exists():
        shutil.rmtree(folder)
    temporary.rename(folder)
    return folder
