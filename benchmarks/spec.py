"""What a benchmark and a suite are. Plain data: importable by the API process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How a benchmark's score comes out of lm-eval's numbers.
SINGLE = "single"  # one lm-eval task
GROUP = "group"  # an lm-eval group: its own aggregate_metric_list (e.g. mean weighted by subtask size)
NORMALIZED_MEAN = "normalized_mean"  # Open LLM v2: each subtask normalized, then an unweighted mean

NORMALIZED_METRIC = "score_normalized"  # the stored name of a normalized score


@dataclass(frozen=True)
class MetricSpec:
    """An evaluator (evaluators/registry.py) a generation benchmark is scored with, after lm-eval
    has generated: its name, the language it reads and its parameters."""

    evaluator: str
    lang: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeSpec:
    """A benchmark graded by an LLM judge (harness/judged.py): the model answers the bundled
    items through the backend layer, then `method` grades them: "single" (MT-Bench-style rating
    of each turn) or "pairwise" (AlpacaEval-style, against the items' reference outputs)."""

    method: str
    lang: str  # the prompts' language (and the Korean penalty's trigger)
    bundle: str  # benchmarks/data/bundled/<bundle>/test.jsonl
    max_gen_toks: int = 512  # answer length per turn
    # The JSONL file in the benchmark's hub dataset repository (its hub_datasets) that
    # `evalboard datasets pull` saves and a run on hub data reads (harness/judged_data.py).
    hub_file: str | None = None


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str  # our stable id: result rows and the board key on it
    task: str  # lm-eval task or group run on the real (hub) dataset
    display_en: str
    display_ko: str
    num_fewshot: int
    primary_metric: str  # lm-eval metric key, with its filter when not "none": "exact_match,strict-match"
    language: str  # en | ko | en+ko
    random_baseline: float  # chance level of the primary metric (0 for generation)
    version: str  # bumps when our choice of task, few-shot or metric changes
    bundled_task: str | None = None  # the same config on our bundled items; None: task itself is local
    aggregation: str = SINGLE
    request_type: str = "loglikelihood"  # loglikelihood | generate: decides the backend per request type
    # Open LLM v2 normalization: metrics averaged per subtask before normalizing (IFEval: prompt- and
    # instruction-level accuracy) and per-subtask chance levels where the choice count varies by item.
    normalize_metrics: tuple[str, ...] = ()
    subtask_baselines: dict[str, float] = field(default_factory=dict)
    hub_datasets: tuple[tuple[str, str | None], ...] = ()  # (path, name) pairs `datasets pull` saves
    description: str = ""
    size: str = ""  # the real benchmark's evaluation set
    licence: str = ""
    source: str = ""  # paper or dataset card
    private: bool = False  # items and per-sample logs are never served
    # Generation benchmarks scored by evalboard's evaluators from the logged generations (the
    # primary metric is one of theirs: "rougeL", "chrf++"); empty: lm-eval's metrics are the scores.
    metrics: tuple[MetricSpec, ...] = ()
    judge: JudgeSpec | None = None  # an LLM-judged benchmark: no lm-eval task behind `task`
    # A private-set template ("ko-llm-v2/ko_gpqa"): the real set is held by its owners, so `task` runs
    # the bundled stand-in until an operator registers the real items with
    # `evalboard private add NAME --template SUITE/NAME --data FILE` (benchmarks/private_templates.py).
    template: str | None = None

    @property
    def hub_dataset_labels(self) -> list[str]:
        """'path (config)' per hub dataset, as listings show them."""
        return [path if name is None else f"{path} ({name})" for path, name in self.hub_datasets]

    @property
    def has_hub_data(self) -> bool:
        return bool(self.hub_datasets)

    def task_for(self, data_source: str) -> str:
        """The lm-eval task name to run for a data source ("hub" or "bundled")."""
        if data_source == "bundled" and self.bundled_task:
            return self.bundled_task
        return self.task

    @property
    def normalized(self) -> bool:
        return self.aggregation == NORMALIZED_MEAN


@dataclass(frozen=True)
class Suite:
    name: str
    title_en: str
    title_ko: str
    description: str
    benchmarks: tuple[BenchmarkSpec, ...] = field(default_factory=tuple)
    # Backend per request type, overriding the worker's choice (see README "Backends per request type").
    backend_for: dict[str, str] = field(default_factory=dict)

    def benchmark(self, name: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def has_normalized(self) -> bool:
        return any(spec.normalized for spec in self.benchmarks)


def template_benchmark(suite: str, name: str, **fields: Any) -> BenchmarkSpec:
    """A private-set template's stand-in: Korean, task `evalboard_<name>` on its bundled sample,
    template "<suite>/<name>" (benchmarks/private_templates.py)."""
    defaults: dict[str, Any] = {"language": "ko", "version": "1.0"}
    return BenchmarkSpec(
        **{**defaults, **fields}, name=name, task=f"evalboard_{name}", template=f"{suite}/{name}"
    )
