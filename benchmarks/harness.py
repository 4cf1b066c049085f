"""The one place that calls lm-eval.

The model is loaded once per suite. Benchmarks with the same few-shot count run in one
simple_evaluate call (lm-eval takes one few-shot count per call), exactly as
`lm_eval --tasks a,b,c --num_fewshot k` would run them (see `reproduce_command`); progress inside
a call is read from lm-eval's own progress bars (benchmarks/progress.py).
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.backends import hf, resolve_backend, vllm
from benchmarks.backends.vllm import VllmOptions, make_options
from benchmarks.backends.weights import chat_template_hash, locate
from benchmarks.catalog import TASKS_DIR, BenchmarkSpec, Suite, needs_builtin_tasks
from benchmarks.progress import watch_bars
from benchmarks.target import ModelTarget

ProgressCallback = Callable[[float, str | None], None]
# Passed to lm-eval explicitly (they are its defaults today) so what each result records is what ran.
SEEDS = {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}


@dataclass
class MetricValue:
    benchmark: str
    task: str
    metric: str
    value: float
    stderr: float | None
    n: int | None
    is_primary: bool
    provenance: dict[str, Any]


@dataclass
class SuiteOutcome:
    suite: str
    model_args: dict[str, Any]
    metrics: list[MetricValue] = field(default_factory=list)
    results_path: Path | None = None
    samples_path: Path | None = None

    def primary(self) -> dict[str, MetricValue]:
        return {m.benchmark: m for m in self.metrics if m.is_primary}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def reproduce_command(
    specs: list[BenchmarkSpec], args: dict[str, Any], apply_chat_template: bool, backend: str = "hf"
) -> str:
    """The lm_eval command line of the call that produced these benchmarks' numbers."""
    model_args = ",".join(f"{k}={v}" for k, v in args.items() if k not in ("device", "batch_size"))
    seeds = ",".join(str(SEEDS[k]) for k in ("random", "numpy", "torch", "fewshot"))
    parts = [
        "lm_eval", "--model", backend, "--model_args", model_args,
        "--include_path", str(TASKS_DIR), "--tasks", ",".join(spec.task for spec in specs),
        "--num_fewshot", str(specs[0].num_fewshot),
        "--batch_size", str(args.get("batch_size", 8)),
        *(["--device", str(args["device"])] if "device" in args else []),
        "--seed", seeds,
    ]  # fmt: skip
    if apply_chat_template:
        parts += ["--apply_chat_template", "--fewshot_as_multiturn"]
    return shlex.join(parts)


def _metrics_for(
    spec: BenchmarkSpec, task_results: dict[str, Any], n: int | None, provenance: dict[str, Any]
) -> list[MetricValue]:
    """lm-eval keys look like 'acc,none' and 'acc_stderr,none'; keep every numeric metric."""
    values: list[MetricValue] = []
    for key, value in task_results.items():
        if "," not in key or "_stderr," in key or not isinstance(value, int | float):
            continue
        metric, filter_name = key.split(",", 1)
        stderr = task_results.get(f"{metric}_stderr,{filter_name}")
        stderr = float(stderr) if isinstance(stderr, int | float) else None
        name = metric if filter_name == "none" else f"{metric},{filter_name}"
        values.append(
            MetricValue(
                benchmark=spec.name,
                task=spec.task,
                metric=name,
                value=float(value),
                stderr=stderr,
                n=n,
                is_primary=metric == spec.primary_metric,
                provenance=provenance,
            )
        )
    if not any(v.is_primary for v in values):
        raise RuntimeError(
            f"{spec.task} produced no {spec.primary_metric!r} metric; got {sorted(task_results)}"
        )
    return values


def fewshot_groups(specs: tuple[BenchmarkSpec, ...]) -> list[list[BenchmarkSpec]]:
    """Benchmarks sharing a few-shot count run in one lm-eval call, as the CLI would run them.

    One call per group, not per benchmark: lm-eval's per-call overhead (environment report, git
    probes) would otherwise dominate small suites, and a single call is what users reproduce.
    """
    groups: dict[int, list[BenchmarkSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.num_fewshot, []).append(spec)
    return list(groups.values())


@dataclass
class LoadedModel:
    backend: str
    args: dict[str, Any]
    lm: Any
    commit: str | None
    device: str


def load_model(
    target: ModelTarget,
    *,
    backend: str,
    cache_dir: Path,
    device: str,
    batch_size: int,
    vllm_options: VllmOptions | None,
) -> LoadedModel:
    name = resolve_backend(backend)
    weights = locate(target, cache_dir)
    if name == "vllm":
        options = vllm_options or make_options()
        args = vllm.model_args(target, weights, options=options)
        return LoadedModel(name, args, vllm.load(args), weights.commit, f"cuda x{options.gpus}")
    device = hf.pick_device(device)
    args = hf.model_args(target, weights, device=device, batch_size=batch_size)
    return LoadedModel(name, args, hf.load(args), weights.commit, device)


def run_suite(
    target: ModelTarget,
    suite: Suite,
    *,
    cache_dir: Path,
    output_dir: Path,
    backend: str = "hf",
    device: str = "auto",
    batch_size: int = 8,
    limit: int | None = None,
    vllm_options: VllmOptions | None = None,
    on_progress: ProgressCallback | None = None,
) -> SuiteOutcome:
    import lm_eval
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import handle_non_serializable

    report = on_progress or (lambda _fraction, _task: None)
    output_dir.mkdir(parents=True, exist_ok=True)
    report(0.0, "loading model")
    loaded = load_model(
        target,
        backend=backend,
        cache_dir=cache_dir,
        device=device,
        batch_size=batch_size,
        vllm_options=vllm_options,
    )
    args, lm, commit, device = loaded.args, loaded.lm, loaded.commit, loaded.device
    template_hash = chat_template_hash(lm) if target.use_chat_template else None
    task_manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=needs_builtin_tasks(suite))

    outcome = SuiteOutcome(suite=suite.name, model_args=args)
    merged: dict[str, Any] = {"results": {}, "versions": {}, "n-shot": {}, "configs": {}, "n-samples": {}}
    samples_path = output_dir / "samples.jsonl"
    groups = fewshot_groups(suite.benchmarks)
    with samples_path.open("w", encoding="utf-8") as samples_file:
        for index, group in enumerate(groups):
            names = ", ".join(spec.name for spec in group)

            def on_bar(request_type: str, fraction: float, index: int = index, names: str = names) -> None:
                report((index + fraction) / len(groups), f"{names} · {request_type} {fraction:.0%}")

            report(index / len(groups), names)
            started = _now()
            with watch_bars(on_bar):
                results = lm_eval.simple_evaluate(
                    model=lm,
                    tasks=[spec.task for spec in group],
                    num_fewshot=group[0].num_fewshot,
                    batch_size=args["batch_size"],
                    limit=limit,
                    log_samples=True,
                    apply_chat_template=target.use_chat_template,
                    fewshot_as_multiturn=target.use_chat_template,
                    task_manager=task_manager,
                    random_seed=SEEDS["random"],
                    numpy_random_seed=SEEDS["numpy"],
                    torch_random_seed=SEEDS["torch"],
                    fewshot_random_seed=SEEDS["fewshot"],
                )
            if results is None:  # only on non-zero ranks in multi-process runs
                raise RuntimeError("lm-eval returned no results")
            finished = _now()
            for key in merged:
                merged[key].update(results.get(key, {}))
            for spec in group:
                for sample in results.get("samples", {}).get(spec.task, []):
                    record = {"benchmark": spec.name, "task": spec.task, **sample}
                    samples_file.write(
                        json.dumps(record, default=handle_non_serializable, ensure_ascii=False) + "\n"
                    )
                provenance = {
                    "lm_eval_version": version("lm_eval"),
                    "task": spec.task,
                    "task_version": results.get("versions", {}).get(spec.task),
                    "task_config_hash": config_hash(results.get("configs", {}).get(spec.task, {})),
                    "benchmark_version": spec.version,
                    "num_fewshot": spec.num_fewshot,
                    "backend": loaded.backend,
                    "backend_args": args,
                    "model_commit": commit,
                    "dtype": args.get("dtype", target.precision),
                    "apply_chat_template": target.use_chat_template,
                    "chat_template_hash": template_hash,
                    "limit": limit,
                    "seeds": dict(SEEDS),
                    "data_source": "bundled",
                    "started_at": started,
                    "finished_at": finished,
                    "reproduce": reproduce_command(group, args, target.use_chat_template, loaded.backend),
                    "host": {
                        "python": platform.python_version(),
                        "torch": version("torch"),
                        "transformers": version("transformers"),
                        "device": device,
                    },
                }
                n_samples = results.get("n-samples", {}).get(spec.task, {})
                outcome.metrics.extend(
                    _metrics_for(spec, results["results"][spec.task], n_samples.get("effective"), provenance)
                )
    report(1.0, None)
    results_path = output_dir / "results.json"
    merged.update(model_name=str(args.get("pretrained")), model_args=args, lm_eval_version=version("lm_eval"))
    results_path.write_text(json.dumps(merged, indent=2, default=handle_non_serializable, ensure_ascii=False))
    outcome.results_path = results_path
    outcome.samples_path = samples_path
    return outcome
