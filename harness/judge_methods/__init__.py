"""Judged benchmark methods, registered lazily by name (a JudgeSpec's `method`): each module defines
`METHOD`, a JudgeMethod.

A judged benchmark runs in three steps that a suite runs apart (harness/judged.py): the model
answers the conversations the method prepares (through the backend layer), the judging is
estimated before any judge call (evaluators/judge/estimate.py), then the judge grades and the
method turns its verdicts into metric rows and per-sample records.

- single (MT-Bench-style, also LogicKor-schema sets): each turn rated 1-10; score mean rating / 10.
- pairwise (AlpacaEval-style): the answer against the item's reference output in both orders;
  score the length-controlled win rate.

A new method is one module and one line in REGISTRY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import Any, Protocol

from benchmarks.spec import BenchmarkSpec
from harness.results import MetricValue

REGISTRY = {
    "single": "harness.judge_methods.single",
    "pairwise": "harness.judge_methods.pairwise",
}
SCORED_BY = "evalboard-judge"


@dataclass
class Prepared:
    """What the model answers (per item, its turns) and what grading will need."""

    conversations: list[list[str]]
    questions: list[Any] = field(default_factory=list)  # single: evaluators.judge.single.Question
    references: list[str] = field(default_factory=list)  # pairwise: the reference outputs


@dataclass
class Answered:
    """One judged benchmark's items with the model's answers, ready for the judge."""

    spec: BenchmarkSpec
    items: list[dict[str, Any]]
    answers: list[list[str]]  # per item, per turn
    prompts: list[list[str]]  # what each turn's answer answered
    max_gen_toks: int
    questions: list[Any] = field(default_factory=list)  # single: evaluators.judge.single.Question
    references: list[str] = field(default_factory=list)  # pairwise: the reference outputs

    @property
    def method(self) -> str:
        assert self.spec.judge is not None
        return self.spec.judge.method

    @property
    def lang(self) -> str:
        assert self.spec.judge is not None
        return self.spec.judge.lang

    @property
    def instructions(self) -> list[str]:
        return [str(item["instruction"]) for item in self.items]

    @property
    def outputs(self) -> list[str]:
        return [answers[0] for answers in self.answers]


class JudgeMethod(Protocol):
    name: str

    def check_record(self, record: dict[str, Any]) -> None:
        """Raise KeyError, TypeError or ValueError when `record` is not in the method's schema."""
        ...

    def prepare(self, items: list[dict[str, Any]]) -> Prepared: ...

    def estimate(self, client: Any, answered: Answered, repeats: int) -> Any:
        """What grading `answered` will cost (an evaluators.judge.estimate.Estimate); nothing is sent."""
        ...

    def grade(
        self, client: Any, answered: Answered, setup: Any
    ) -> tuple[list[MetricValue], list[dict[str, Any]]]:
        """Judge the answers (setup: harness.judged.JudgeSetup): (metric rows, per-sample records)."""
        ...


@cache
def get(name: str) -> JudgeMethod:
    if name not in REGISTRY:
        raise ValueError(f"unknown judge method {name!r}; choose one of {', '.join(REGISTRY)}")
    method: JudgeMethod = import_module(REGISTRY[name]).METHOD
    return method


def of(spec: BenchmarkSpec) -> JudgeMethod:
    """The method that grades this judged benchmark."""
    assert spec.judge is not None
    return get(spec.judge.method)
