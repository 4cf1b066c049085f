"""The child process of a fine-tune job: check contamination, train, save the adapter, record the
tuned model and its evaluation requests, then evaluate the PeftModel still in memory.

The child writes to the database itself twice (the contamination report; the tuned model with its
requests, in one transaction) so the board knows about the model the moment training ends.
Scores go back through outcome.json like an evaluation job's: the parent commits them in its
fenced transaction. Progress (step, loss, ETA) goes through the progress file the parent mirrors.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import select

from app.db import session_scope, utcnow
from app.finetune.dataset import DatasetError, Example, parse_examples
from app.tables import EvalRequest, FineTune, FineTuneStatus, LlmModel, RequestStatus
from app.worker import files
from benchmarks.target import ModelTarget, PermanentRunError

PROGRESS_EVERY = 0.5  # seconds between progress-file writes (the last step is always written)
MAX_LOSS_POINTS = 2000  # the stored curve is thinned past this many points


class StopFlag:
    """SIGTERM while training: finish the step, save the adapter, stop. Any other time: exit."""

    def __init__(self) -> None:
        self.training = False
        self.requested = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if not self.training:
            raise SystemExit(128 + signum)
        self.requested = True


def thin(points: list[list[float]]) -> list[list[float]]:
    """Keep the curve's shape: every other point once there are too many (the last one stays)."""
    while len(points) > MAX_LOSS_POINTS:
        points = [*points[:-1:2], points[-1]]
    return points


def load_examples(spec: dict[str, Any]) -> list[Example]:
    if spec.get("dataset_path"):
        raw = Path(spec["dataset_path"]).read_bytes()
    else:
        raw = hub_dataset_bytes(spec["dataset_id"])
    try:
        return parse_examples(raw)
    except DatasetError as exc:
        raise PermanentRunError(f"dataset: {exc}") from None


def hub_dataset_bytes(dataset_id: str) -> bytes:
    """A hub dataset's train split as JSON Lines, so it goes through the same checks as an upload."""
    try:
        from datasets import load_dataset

        rows = load_dataset(dataset_id, split="train")
    except Exception as exc:
        raise PermanentRunError(
            f"could not load hub dataset {dataset_id!r}: {type(exc).__name__}: {exc}; "
            "on an offline server upload the data as a file instead"
        ) from exc
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


def check_contamination(spec: dict[str, Any], examples: list[Example]) -> dict[str, Any]:
    from app.worker.run_settings import suite_tasks_dir
    from benchmarks.catalog import get_suite
    from training.contamination import find_overlaps, report, suite_items

    private_dir = Path(spec["private_dir"])
    items = []
    names: list[str] = []
    for name in spec["suites"]:
        suite = get_suite(name, private_dir=private_dir)
        names.extend(b.name for b in suite.benchmarks)
        items.extend(
            suite_items(
                suite,
                data_source=spec["harness"]["data_source"],
                datasets_dir=Path(spec["harness"]["datasets_dir"]),
                tasks_dir=suite_tasks_dir(suite, private_dir),
            )
        )
    overlaps = find_overlaps(((e.line, e.text()) for e in examples), items)
    return report(overlaps, len({(i.benchmark, i.task, i.item) for i in items}), names)


def contamination_flag(contamination: dict[str, Any]) -> list[str]:
    if not contamination["overlap_count"]:
        return []
    benchmarks = ", ".join(contamination["contaminated_benchmarks"])
    return [f"contaminated: training data shares 13-grams with {benchmarks}"]


def record_tuned_model(
    spec: dict[str, Any], target: ModelTarget, adapter_dir: Path, flags: list[str]
) -> list[tuple[int, str]]:
    """One transaction: the adapter's model row (lineage: base_model, and this fine-tune's
    tuned_model_id) and a RUNNING request per suite. Returns [(request id, suite)]."""
    with session_scope(spec["database_url"]) as session:
        finetune = session.get(FineTune, spec["finetune_id"])
        base = session.get(LlmModel, finetune.base_model_id) if finetune else None
        if finetune is None or base is None:
            raise PermanentRunError(f"fine-tune {spec['finetune_id']} or its base model is gone")
        model = session.scalar(
            select(LlmModel).where(LlmModel.reference == target.reference, LlmModel.weight_type == "adapter")
        )
        if model is None:  # a retried job may have recorded it already
            model = LlmModel(
                reference=target.reference,
                source="local",
                name=f"{base.name}-lora-ft{finetune.id}",
                revision="main",
                precision=target.precision,
                weight_type="adapter",
                base_model=target.base_model,
                model_type="fine_tuned",
                params_b=base.params_b,
                licence=base.licence,
                use_chat_template=base.use_chat_template,
            )
            session.add(model)
        model.flags = flags
        session.flush()
        requests = []
        for suite in spec["suites"]:
            request = EvalRequest(
                model_id=model.id,
                suite=suite,
                status=RequestStatus.RUNNING,
                worker=spec["worker_id"],
                attempts=1,
                started_at=utcnow(),
            )
            session.add(request)
            session.flush()
            requests.append((request.id, suite))
        finetune.tuned_model_id = model.id
        finetune.adapter_path = str(adapter_dir)
        finetune.status = FineTuneStatus.EVALUATING
        return requests


class Recorder:
    """Where a fine-tune reports to: the database and progress file (worker), or the terminal (CLI)."""

    def progress(self, progress: dict[str, Any]) -> None: ...
    def contamination(self, report: dict[str, Any], examples: int) -> None: ...
    def stopped(self, adapter_dir: Path) -> None: ...

    def trained(self, target: ModelTarget, adapter_dir: Path, flags: list[str]) -> list[tuple[int, str]]:
        """The tuned model is recorded: [(request id, suite)] to evaluate now."""
        raise NotImplementedError


class DatabaseRecorder(Recorder):
    def __init__(self, spec: dict[str, Any], attempt_dir: Path) -> None:
        self.spec = spec
        self.attempt_dir = attempt_dir

    def progress(self, progress: dict[str, Any]) -> None:
        files.write_json_atomic(self.attempt_dir / files.PROGRESS, progress)

    def contamination(self, report: dict[str, Any], examples: int) -> None:
        _update(self.spec, contamination=report, examples=examples)

    def stopped(self, adapter_dir: Path) -> None:
        _update(self.spec, adapter_path=str(adapter_dir))

    def trained(self, target: ModelTarget, adapter_dir: Path, flags: list[str]) -> list[tuple[int, str]]:
        return record_tuned_model(self.spec, target, adapter_dir, flags)


def _update(spec: dict[str, Any], **values: Any) -> None:
    with session_scope(spec["database_url"]) as session:
        finetune = session.get(FineTune, spec["finetune_id"])
        if finetune is not None:
            for key, value in values.items():
                setattr(finetune, key, value)


def run_finetune(spec: dict[str, Any], attempt_dir: Path, recorder: Recorder | None = None) -> dict[str, Any]:
    """Train, then evaluate in this process. `attempt_dir` holds the evaluation artifacts."""
    from app.worker.run_settings import harness_arguments, suite_tasks_dir
    from benchmarks.catalog import get_suite
    from benchmarks.training_params import TrainingParams
    from harness import backends
    from harness.backends import resolve_backend
    from harness.runner import run_suite
    from training.pipeline import in_memory_lm, prepare
    from training.train import StepReport, mean_loss, save_adapter, train

    recorder = recorder or DatabaseRecorder(spec, attempt_dir)
    stop = StopFlag()
    signal.signal(signal.SIGTERM, stop)
    progress: dict[str, Any] = {"phase": "checking", "losses": []}

    def write_progress(**values: Any) -> None:
        progress.update(values)
        recorder.progress(progress)

    write_progress()
    examples = load_examples(spec)
    contamination = check_contamination(spec, examples)
    recorder.contamination(contamination, len(examples))
    print(f"[evalboard] contamination: {contamination['overlap_count']} overlaps", flush=True)

    options = dict(spec["params"])
    precision, revision = options.pop("precision", "float32"), options.pop("revision", None)
    params = TrainingParams.model_validate(options)
    base = ModelTarget(
        reference=spec["base"]["reference"],
        source=spec["base"]["source"],
        revision=revision or spec["base"]["revision"],
        commit_sha=spec["base"]["commit_sha"],
        precision="4bit" if params.quantization == "4bit" else precision,
    )
    harness = harness_arguments(spec["harness"])
    write_progress(phase="loading")
    prepared = prepare(
        base,
        [[{"role": r, "content": c} for r, c in e.messages] for e in examples],
        params,
        cache_dir=Path(spec["cache_dir"]),
        device=harness["device"],
    )
    data = prepared.data
    print(
        f"[evalboard] training on {len(data.rows)} rows, {data.tokens} tokens "
        f"({data.truncated} truncated, {data.dropped} dropped, {data.unmasked} unmasked)",
        flush=True,
    )
    last_write = 0.0

    def on_step(report: StepReport) -> None:
        nonlocal last_write
        progress["losses"] = thin([*progress["losses"], [report.step, round(report.loss, 5)]])
        now = time.monotonic()
        if now - last_write >= PROGRESS_EVERY or report.step == report.total_steps:
            last_write = now
            write_progress(
                phase="training",
                step=report.step,
                total_steps=report.total_steps,
                eta_seconds=round(report.eta_seconds, 1),
                tokens_per_second=round(report.tokens_per_second, 1),
            )

    adapter_dir = Path(spec["output_dir"]) / "adapter"
    pad_id = prepared.tokenizer.pad_token_id
    loss_before = mean_loss(prepared.model, data.rows, params.batch_size, pad_id)
    stop.training = True
    trained = train(
        prepared.model,
        data.rows,
        params,
        pad_id=pad_id,
        on_step=on_step,
        should_stop=lambda: stop.requested,
        checkpoint=lambda model, step: save_adapter(model, prepared.tokenizer, adapter_dir),
        checkpoint_every=spec.get("checkpoint_every", 200),
    )
    save_adapter(prepared.model, prepared.tokenizer, adapter_dir)
    stop.training = False
    summary = {
        "loss_before": round(loss_before, 5),
        "steps": trained.steps,
        "tokens": trained.tokens,
        "seconds": round(trained.seconds, 3),
        "tokens_per_second": round(trained.tokens / trained.seconds, 1) if trained.seconds else None,
        "rows": len(data.rows),
        "truncated": data.truncated,
        "dropped": data.dropped,
    }
    if trained.stopped:
        recorder.stopped(adapter_dir)
        return {"finetune_id": spec["finetune_id"], "stopped": True, "train": summary}

    tuned = ModelTarget(
        reference=str(adapter_dir),
        source="local",
        revision="main",
        commit_sha=None,
        precision=base.precision,
        weight_type="adapter",
        base_model=spec["base"]["reference"],
        use_chat_template=bool(spec["base"]["use_chat_template"]),
    )
    requests = recorder.trained(tuned, adapter_dir, contamination_flag(contamination))
    handoff = time.perf_counter() - trained.last_step_at
    # Measured after the hand-off: the evaluation is already recorded when this runs.
    summary["loss_after"] = round(mean_loss(prepared.model, data.rows, params.batch_size, pad_id), 5)
    print(
        f"[evalboard] adapter saved, {len(requests)} evaluation(s) recorded "
        f"{handoff:.3f}s after the last step",
        flush=True,
    )
    write_progress(phase="evaluating")

    private_dir = Path(spec["private_dir"])
    backend = resolve_backend(harness["backend"])
    in_memory = backends.get(backend).evaluates_in_memory
    loaded = (
        in_memory_lm(prepared, tuned, cache_dir=Path(spec["cache_dir"]), batch_size=harness["batch_size"])
        if in_memory
        else None  # the backend loads the saved adapter instead (vLLM: through its LoRA support)
    )
    evaluated = []
    for request_id, suite_name in requests:
        suite = get_suite(suite_name, private_dir=private_dir)
        outcome = run_suite(
            tuned,
            suite,
            cache_dir=Path(spec["cache_dir"]),
            tasks_dir=suite_tasks_dir(suite, private_dir),
            output_dir=attempt_dir / f"request-{request_id}",
            limit=spec.get("limit"),
            preloaded=loaded,
            **{**harness, "backend": backend},
        )
        evaluated.append(
            {
                "request_id": request_id,
                "metrics": [asdict(m) for m in outcome.metrics],
                "data_source": outcome.data_source,
                "item_scores": outcome.item_scores,
                "results_path": str(outcome.results_path),
                "samples_path": str(outcome.samples_path),
                "model_loaded_from_disk": loaded is None,
            }
        )
    return {
        "finetune_id": spec["finetune_id"],
        "stopped": False,
        "train": summary,
        "handoff_seconds": round(handoff, 4),
        "requests": evaluated,
        "contamination": contamination,
        "adapter_dir": str(adapter_dir),
    }
