"""The one place that calls lm-eval.

Each model is loaded once per suite (and not at all when every response is cached). Benchmarks
sharing a backend and few-shot count run in one simple_evaluate call, exactly as
`lm_eval --tasks a,b,c --num_fewshot k` runs them (see harness/reproduce.py); progress inside a
call is read from lm-eval's own progress bars (harness/progress.py).
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.catalog import TASKS_DIR, needs_builtin_tasks, task_dirs
from benchmarks.datasources import needs_network, plan_sources, request_label
from benchmarks.environment import nltk_punkt_source, prepare_environment
from benchmarks.lm_eval_link import ensure_link
from benchmarks.spec import BenchmarkSpec, Suite
from benchmarks.target import ModelTarget
from harness import backends
from harness.backends import resolve_backend
from harness.backends.base import LoadedModel, LoadSettings, ReproduceCall
from harness.backends.weights import chat_template_hash
from harness.generation_scoring import device_options, score_commands, score_generations
from harness.geval_scoring import GevalJudge
from harness.item_scores import extract as item_scores
from harness.judged import JudgeSetup, run_judged_benchmarks
from harness.progress import watch_bars
from harness.reproduce import SEEDS
from harness.results import MetricValue, metric_rows, task_tree
from harness.task_index import task_manager

ProgressCallback = Callable[[float, str | None], None]
__all__ = ["SEEDS", "LoadedModel", "MetricValue", "SuiteOutcome", "run_suite"]


@dataclass
class SuiteOutcome:
    suite: str
    model_args: dict[str, Any]
    data_source: str = "bundled"  # hub | bundled | mixed: how the board files these scores
    metrics: list[MetricValue] = field(default_factory=list)
    results_path: Path | None = None
    samples_path: Path | None = None
    model_calls: int | None = None  # requests the model answered (cache misses); None: not counted
    model_loaded: bool = True
    # benchmark -> per-item primary scores (harness/item_scores.py): the board's rank bootstrap
    item_scores: dict[str, dict[str, list[Any]] | None] = field(default_factory=dict)

    def primary(self) -> dict[str, MetricValue]:
        return {m.benchmark: m for m in self.metrics if m.is_primary}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class PlannedBenchmark:
    spec: BenchmarkSpec
    task: str  # the lm-eval task or group actually run
    data_source: str  # hub | bundled
    backend: str


@dataclass
class CallGroup:
    """Benchmarks evaluated in one simple_evaluate call (same backend and few-shot count).

    One call per group, not per benchmark: lm-eval's per-call overhead (environment report, git
    probes) would otherwise dominate small suites, and a single call is what users reproduce.
    """

    backend: str
    num_fewshot: int
    benchmarks: list[PlannedBenchmark]


def call_groups(planned: list[PlannedBenchmark]) -> list[CallGroup]:
    groups: dict[tuple[str, int], CallGroup] = {}
    for item in planned:
        key = (item.backend, item.spec.num_fewshot)
        groups.setdefault(key, CallGroup(item.backend, item.spec.num_fewshot, [])).benchmarks.append(item)
    return list(groups.values())


def load_model(
    target: ModelTarget,
    *,
    backend: str,
    settings: LoadSettings,
    backend_options: dict[str, dict[str, Any]] | None = None,
) -> LoadedModel:
    """Load `target` through the backend that serves it (harness/backends), with that backend's
    own options out of `backend_options` (keyed by backend name)."""
    name = resolve_backend(backend, target.reference)
    return backends.get(name).load(target, replace(settings, options=(backend_options or {}).get(name, {})))


def plan_benchmarks(suite: Suite, backend: str, sources: dict[str, str]) -> list[PlannedBenchmark]:
    return [
        PlannedBenchmark(
            spec,
            spec.task_for(sources[spec.name]),
            sources[spec.name],
            suite.backend_for.get(spec.request_type, backend),
        )
        for spec in suite.benchmarks
    ]


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
    backend_options: dict[str, dict[str, Any]] | None = None,
    guarded: bool = False,
    data_source: str = "auto",
    datasets_dir: Path | None = None,
    response_cache_dir: Path | None = None,
    max_gen_toks: int | None = None,
    tasks_dir: Path = TASKS_DIR,
    metric_options: dict[str, dict[str, Any]] | None = None,
    judge: JudgeSetup | None = None,
    on_progress: ProgressCallback | None = None,
    preloaded: LoadedModel | None = None,
) -> SuiteOutcome:
    """Evaluate `target` on `suite`. `backend_options`: each backend's own settings, by name
    (harness/backends); `guarded`: the target came from a submitter, so loading checks where it
    connects. `response_cache_dir` None turns the response cache off;
    `tasks_dir` is where the suite's task YAMLs live (private suites keep theirs on the server).
    `max_gen_toks` caps generation length for quick checks (recorded; it changes the numbers).
    `metric_options` adds worker settings per evaluator of generation benchmarks:
    {"bertscore": {"model": "auto"}}. `judge` is the LLM judge of judged benchmarks (judge-ko,
    judge-en); None: the bundled model behind the local adapter. `preloaded` is a model already in
    memory (a fine-tune's PeftModel) used for its backend instead of loading the target."""
    datasets_dir = datasets_dir or cache_dir.parent / "datasets"
    sources = plan_sources(suite, data_source, datasets_dir=datasets_dir)
    prepare_environment(datasets_dir, offline=not needs_network(sources, suite, datasets_dir))
    ensure_link()

    import lm_eval
    from lm_eval.utils import handle_non_serializable

    from harness.response_cache import cache_prefix, model_identity

    report = on_progress or (lambda _fraction, _task: None)
    output_dir.mkdir(parents=True, exist_ok=True)
    planned = plan_benchmarks(suite, backend, sources)
    judged = [item for item in planned if item.spec.judge is not None]  # answered here, not by lm-eval
    hub_tasks = [item.task for item in planned if item.data_source == "hub" and item not in judged]
    builtin = needs_builtin_tasks(hub_tasks) if tasks_dir == TASKS_DIR else bool(hub_tasks)
    manager = task_manager(tasks_dir, builtin=builtin)

    report(0.0, "loading model")
    models: dict[str, LoadedModel] = {preloaded.backend: preloaded} if preloaded else {}
    outcome = SuiteOutcome(suite=suite.name, model_args={}, data_source=request_label(sources))
    merged: dict[str, Any] = {"results": {}, "versions": {}, "n-shot": {}, "configs": {}, "n-samples": {}}
    samples_path = output_dir / "samples.jsonl"
    groups = call_groups([item for item in planned if item not in judged])

    settings = LoadSettings(
        cache_dir, device, batch_size, deferred=response_cache_dir is not None, guarded=guarded
    )

    def model_for(name: str) -> LoadedModel:
        if name not in models:
            models[name] = load_model(
                target, backend=name, settings=settings, backend_options=backend_options
            )
        return models[name]

    geval_judge = GevalJudge(judge or JudgeSetup(), cache_dir)  # opened only if a benchmark asks for G-Eval
    with samples_path.open("w", encoding="utf-8") as samples_file, geval_judge:
        for index, group in enumerate(groups):
            loaded = model_for(group.backend)
            args = loaded.args
            outcome.model_args = outcome.model_args or args
            identity = model_identity(loaded.commit, loaded.backend, args, target.use_chat_template)
            use_cache = cache_prefix(response_cache_dir, identity) if response_cache_dir else None
            names = ", ".join(item.spec.name for item in group.benchmarks)

            def on_bar(request_type: str, fraction: float, index: int = index, names: str = names) -> None:
                report((index + fraction) / len(groups), f"{names} · {request_type} {fraction:.0%}")

            report(index / len(groups), names)
            calls_before = getattr(loaded.lm, "model_calls", 0)
            started = _now()
            with watch_bars(on_bar):
                results = lm_eval.simple_evaluate(
                    model=loaded.lm,
                    tasks=[item.task for item in group.benchmarks],
                    num_fewshot=group.num_fewshot,
                    batch_size=args["batch_size"],
                    limit=limit,
                    use_cache=use_cache,
                    gen_kwargs={"max_gen_toks": max_gen_toks} if max_gen_toks else None,
                    log_samples=True,
                    apply_chat_template=target.use_chat_template,
                    fewshot_as_multiturn=target.use_chat_template,
                    task_manager=manager,
                    random_seed=SEEDS["random"],
                    numpy_random_seed=SEEDS["numpy"],
                    torch_random_seed=SEEDS["torch"],
                    fewshot_random_seed=SEEDS["fewshot"],
                )
            if results is None:  # only on non-zero ranks in multi-process runs
                raise RuntimeError("lm-eval returned no results")
            scored_with: dict[str, list[dict[str, Any]]] = {}
            options = device_options(metric_options, loaded.device)
            for item in group.benchmarks:
                if item.spec.metrics:
                    report((index + 1) / len(groups), f"{item.spec.name} · scoring")
                    scored_with[item.spec.name] = score_generations(
                        item.spec, item.task, results, options, geval_judge
                    )
            finished = _now()
            calls = getattr(loaded.lm, "model_calls", 0) - calls_before if loaded.counts_calls else None
            for key in merged:
                merged[key].update(results.get(key, {}))
            merged.setdefault("group_subtasks", {}).update(results.get("group_subtasks", {}))
            template_hash = chat_template_hash(loaded.lm) if target.use_chat_template else None
            samples = results.get("samples", {})
            for item in group.benchmarks:
                spec = item.spec
                tree = _tree(item.task, results)
                if not spec.private:  # a private benchmark's items never leave the worker
                    for task in tree:
                        for sample in samples.get(task, []):
                            record = {"benchmark": spec.name, "task": task, **sample}
                            samples_file.write(
                                json.dumps(record, default=handle_non_serializable, ensure_ascii=False) + "\n"
                            )
                provenance = {
                    "lm_eval_version": version("lm_eval"),
                    "task": item.task,
                    "task_version": results.get("versions", {}).get(item.task),
                    "task_config_hash": config_hash(
                        {task: results.get("configs", {}).get(task, {}) for task in tree}
                    ),
                    "benchmark_version": spec.version,
                    "num_fewshot": spec.num_fewshot,
                    "data_source": item.data_source,
                    "nltk_punkt": nltk_punkt_source(datasets_dir) if spec.name == "ifeval" else None,
                    "backend": loaded.backend,
                    "backend_args": args,
                    "model_commit": loaded.commit,
                    "dtype": args.get("dtype", target.precision),
                    "apply_chat_template": target.use_chat_template,
                    "chat_template_hash": template_hash,
                    "limit": limit,
                    "max_gen_toks": max_gen_toks,
                    "evaluators": scored_with.get(spec.name),
                    "seeds": dict(SEEDS),
                    "response_cache": {"model_identity": identity, "model_calls_in_call": calls}
                    if use_cache
                    else None,
                    "started_at": started,
                    "finished_at": finished,
                    "reproduce": _reproduce(loaded, group, item, target, tasks_dir, limit, max_gen_toks)
                    + score_commands(spec, item.task, scored_with.get(spec.name)),
                    "host": {
                        "python": platform.python_version(),
                        "torch": version("torch"),
                        "transformers": version("transformers"),
                        "device": loaded.device,
                    },
                }
                outcome.metrics.extend(metric_rows(spec, item.task, results, samples, provenance))
                outcome.item_scores[spec.name] = item_scores(spec, item.task, results, samples)
            if calls is not None:
                outcome.model_calls = (outcome.model_calls or 0) + calls
        if judged:
            run_judged_benchmarks(
                judged, model_for, judge or JudgeSetup(), target=target, cache_dir=cache_dir,
                response_cache_dir=response_cache_dir, limit=limit, max_gen_toks=max_gen_toks,
                outcome=outcome, samples_file=samples_file, report=report,
                done=len(groups) / (len(groups) + 1), datasets_dir=datasets_dir,
            )  # fmt: skip
    report(1.0, None)
    outcome.model_loaded = all(getattr(m.lm, "loaded", True) for m in models.values())
    results_path = output_dir / "results.json"
    private = {t for item in planned if item.spec.private for t in _tree(item.task, merged)}
    for section in ("configs",):  # a private task's config names its server-side data file
        merged[section] = {k: v for k, v in merged[section].items() if k not in private}
    merged.update(
        model_name=str(outcome.model_args.get("pretrained")),
        model_args=outcome.model_args,
        lm_eval_version=version("lm_eval"),
        data_sources=sources,
    )
    results_path.write_text(json.dumps(merged, indent=2, default=handle_non_serializable, ensure_ascii=False))
    outcome.results_path = results_path
    outcome.samples_path = samples_path
    return outcome


def _reproduce(
    loaded: LoadedModel,
    group: CallGroup,
    item: PlannedBenchmark,
    target: ModelTarget,
    tasks_dir: Path,
    limit: int | None,
    max_gen_toks: int | None,
) -> str:
    """The command line its backend says reproduces this benchmark's numbers from the call."""
    call = ReproduceCall(
        tasks=[b.task for b in group.benchmarks], task=item.task, request_type=item.spec.request_type,
        num_fewshot=group.num_fewshot, apply_chat_template=target.use_chat_template,
        include_paths=task_dirs(tasks_dir), limit=limit, max_gen_toks=max_gen_toks,
    )  # fmt: skip
    return backends.get(loaded.backend).reproduce(loaded, call)


def _tree(task: str, results: dict[str, Any]) -> list[str]:
    return task_tree(task, results.get("group_subtasks", {}))
