"""Benchmarks and suites. Importable by the API process: no heavy imports here.

A benchmark lm-eval already knows is one BenchmarkSpec naming its task; one it does not know is a
YAML file under benchmarks/tasks/ plus its BenchmarkSpec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
TASK_NAME_LINE = re.compile(r"^(?:task|group):\s*['\"]?([\w.-]+)", re.MULTILINE)


@lru_cache(maxsize=1)
def local_task_names() -> frozenset[str]:
    """Task and group names defined by our YAML files (a line scan: the files use !function tags)."""
    return frozenset(
        name for path in TASKS_DIR.rglob("*.yaml") for name in TASK_NAME_LINE.findall(path.read_text("utf-8"))
    )


def needs_builtin_tasks(suite: Suite) -> bool:
    """Whether a suite uses any lm-eval built-in task. If not, lm-eval's index of its thousands of
    built-in YAML files (about 10 s on a small CPU, on every run) can be skipped."""
    local = local_task_names()
    return any(spec.task not in local for spec in suite.benchmarks)


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    task: str  # lm-eval task or group name
    display_en: str
    display_ko: str
    num_fewshot: int
    primary_metric: str  # lm-eval metric key without the filter suffix, e.g. "acc"
    language: str  # en | ko
    random_baseline: float
    version: str
    description: str = ""


@dataclass(frozen=True)
class Suite:
    name: str
    title_en: str
    title_ko: str
    description: str
    benchmarks: tuple[BenchmarkSpec, ...] = field(default_factory=tuple)

    def benchmark(self, name: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.name == name:
                return spec
        raise KeyError(name)


SMOKE = Suite(
    name="smoke",
    title_en="Smoke test",
    title_ko="스모크 테스트",
    description=(
        "Three small tasks written for evalboard (bundled data, 24 items each) that exercise both "
        "lm-eval request types: English and Korean multiple choice (log-likelihood) and short-answer "
        "generation. Minutes on a CPU; a pipeline check, not a capability ranking."
    ),
    benchmarks=(
        BenchmarkSpec(
            name="mmlu_en_mini",
            task="evalboard_smoke_mmlu_en",
            display_en="MMLU-style (en, mini)",
            display_ko="MMLU 형식 (영어, 소형)",
            num_fewshot=0,
            primary_metric="acc",
            language="en",
            random_baseline=0.25,
            version="1.0",
            description="Four-choice knowledge questions in MMLU's schema, scored by log-likelihood.",
        ),
        BenchmarkSpec(
            name="kmmlu_ko_mini",
            task="evalboard_smoke_kmmlu_ko",
            display_en="KMMLU-style (ko, mini)",
            display_ko="KMMLU 형식 (한국어, 소형)",
            num_fewshot=0,
            primary_metric="acc",
            language="ko",
            random_baseline=0.25,
            version="1.0",
            description="Four-choice Korean questions in KMMLU's schema, scored by log-likelihood.",
        ),
        BenchmarkSpec(
            name="short_answer",
            task="evalboard_smoke_short_answer",
            display_en="Short answer (exact match)",
            display_ko="단답형 (정확 일치)",
            num_fewshot=0,
            primary_metric="exact_match",
            language="en+ko",
            random_baseline=0.0,
            version="1.0",
            description=(
                "Short factual questions (16 English, 8 Korean) answered by greedy generation; correct when "
                "the normalized answer equals, starts with or ends with the reference or an alias "
                "(instruct models answer in sentences; Korean particles may follow the answer)."
            ),
        ),
    ),
)

SUITES: dict[str, Suite] = {suite.name: suite for suite in (SMOKE,)}


def unknown_suites_message(names: list[str]) -> str:
    return f"unknown suite {', '.join(map(repr, names))}; known suites: {', '.join(sorted(SUITES))}"


def get_suite(name: str) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(unknown_suites_message([name])) from None
