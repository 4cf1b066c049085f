"""The catalog's suites and specs, and which data each benchmark runs on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bundled_data import bundle_dir, read_jsonl, split_sizes
from benchmarks.catalog import SUITES, local_task_names
from benchmarks.datasources import (
    DataSourceError,
    data_board,
    plan_sources,
    record_pulled,
    request_boards,
    request_label,
)
from benchmarks.suites.kobench import KOBENCH_SUITE
from benchmarks.suites.open_llm import OPEN_LLM_V1, OPEN_LLM_V2


def test_open_llm_v1_uses_the_leaderboards_fewshot_counts_and_metrics() -> None:
    expected = {
        "arc_challenge": (25, "acc_norm"),
        "hellaswag": (10, "acc_norm"),
        "mmlu": (5, "acc"),
        "truthfulqa_mc2": (0, "acc"),  # lm-eval reports MC2 under the key "acc"
        "winogrande": (5, "acc"),
        "gsm8k": (5, "exact_match,strict-match"),
    }
    assert {s.name: (s.num_fewshot, s.primary_metric) for s in OPEN_LLM_V1.benchmarks} == expected


def test_open_llm_v2_is_lm_evals_leaderboard_tasks_normalized() -> None:
    assert {s.task for s in OPEN_LLM_V2.benchmarks} == {
        "leaderboard_ifeval", "leaderboard_bbh", "leaderboard_math_hard",
        "leaderboard_gpqa", "leaderboard_musr", "leaderboard_mmlu_pro",
    }  # fmt: skip
    assert all(s.normalized for s in OPEN_LLM_V2.benchmarks) and OPEN_LLM_V2.has_normalized
    assert not OPEN_LLM_V1.has_normalized


def test_kobench_covers_kobest_kmmlu_haerae_click_hrm8k_global_mmlu_and_kormedmcqa() -> None:
    names = [s.name for s in KOBENCH_SUITE.benchmarks]
    kobest = [f"kobest_{t}" for t in ("boolq", "copa", "wic", "hellaswag", "sentineg")]
    assert names == [*kobest, "kmmlu", "haerae", "click", "hrm8k_gsm8k", "global_mmlu_ko", "kormedmcqa"]
    assert all(s.language == "ko" for s in KOBENCH_SUITE.benchmarks)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_benchmark_is_documented_and_runs_offline(suite: str) -> None:
    local = local_task_names()
    for spec in SUITES[suite].benchmarks:
        documented = spec.description and spec.size and spec.licence and spec.source
        assert documented or suite == "smoke", spec.name
        if spec.judge is not None:  # answered and judged by evalboard: its items, no lm-eval task
            assert split_sizes(spec.judge.bundle)["test"] >= 20, spec.name
            # A public set is pulled as one file (harness/judged_data.py): it must be named.
            assert spec.has_hub_data == (spec.judge.hub_file is not None), spec.name
            continue
        assert spec.task_for("bundled") in local, f"{spec.name}: no bundled task"
        assert spec.has_hub_data == (spec.task not in local), f"{spec.name}: hub data and task disagree"
        assert 0.0 <= spec.random_baseline < 1.0


def test_plans_follow_the_setting(tmp_path: Path) -> None:
    def online() -> bool:
        return True

    def offline() -> bool:
        return False

    assert set(plan_sources(OPEN_LLM_V1, "bundled", datasets_dir=tmp_path, hub_online=online).values()) == {
        "bundled"
    }
    assert set(plan_sources(OPEN_LLM_V1, "hub", datasets_dir=tmp_path, hub_online=offline).values()) == {
        "hub"
    }
    assert set(plan_sources(OPEN_LLM_V1, "auto", datasets_dir=tmp_path, hub_online=online).values()) == {
        "hub"
    }
    auto_offline = plan_sources(OPEN_LLM_V1, "auto", datasets_dir=tmp_path, hub_online=offline)
    assert set(auto_offline.values()) == {"bundled"}
    # A pulled dataset counts as available even with no network.
    record_pulled(tmp_path, "gsm8k", [["openai/gsm8k", "main"]])
    pulled = plan_sources(OPEN_LLM_V1, "auto", datasets_dir=tmp_path, hub_online=offline)
    assert pulled["gsm8k"] == "hub" and pulled["mmlu"] == "bundled"
    assert request_label(pulled) == "mixed" and request_label(auto_offline) == "bundled"
    assert json.loads((tmp_path / "pulled.json").read_text())["tasks"]["gsm8k"]["datasets"]
    with pytest.raises(DataSourceError, match="choose one of auto, hub, bundled"):
        plan_sources(OPEN_LLM_V1, "web", datasets_dir=tmp_path)


def test_kobench_is_made_only_of_benchmarks_with_a_public_dataset(tmp_path: Path) -> None:
    assert all(spec.has_hub_data and spec.bundled_task for spec in KOBENCH_SUITE.benchmarks)
    names = {spec.name for spec in KOBENCH_SUITE.benchmarks}
    assert not names & {"ko_commongen_v2", "ko_winogrande", "ko_gsm8k"}  # private sets: ko-h5, ko-llm-v2
    plan = plan_sources(KOBENCH_SUITE, "auto", datasets_dir=tmp_path, hub_online=lambda: True)
    assert set(plan.values()) == {"hub"} and request_label(plan) == "hub"  # a connected server ranks it


def test_a_requests_label_summarises_its_benchmarks_data() -> None:
    assert request_label({"a": "hub", "b": "hub"}) == "hub"
    assert request_label({"a": "hub", "b": "private"}) == "hub+private"  # all real
    assert request_label({"a": "hub", "b": "bundled"}) == "mixed"
    assert request_label({"a": "private", "b": "bundled"}) == "mixed"
    assert [data_board(source) for source in ("hub", "private", "bundled", None)] == [
        "hub", "hub", "bundled", "bundled"
    ]  # fmt: skip
    assert request_boards("hub") == request_boards("hub+private") == ("hub",)
    assert request_boards("mixed") == ("hub", "bundled")  # its real benchmarks rank on the real board
    assert request_boards("bundled") == request_boards(None) == ("bundled",)


def test_a_suite_can_route_a_request_type_to_its_own_backend() -> None:
    from dataclasses import replace

    from harness.runner import call_groups, plan_benchmarks

    routed = replace(OPEN_LLM_V1, backend_for={"generate": "vllm"})
    sources = {spec.name: "bundled" for spec in routed.benchmarks}
    planned = {item.spec.name: item for item in plan_benchmarks(routed, "hf", sources)}
    assert planned["gsm8k"].backend == "vllm" and planned["mmlu"].backend == "hf"
    assert planned["gsm8k"].task == "evalboard_bundled_gsm8k"
    groups = call_groups(list(planned.values()))
    # mmlu, winogrande and gsm8k share 5 shots but not a backend: two calls, never one mixed call.
    assert {(g.backend, g.num_fewshot): [b.spec.name for b in g.benchmarks] for g in groups}[("hf", 5)] == [
        "mmlu",
        "winogrande",
    ]
    assert [b.spec.name for g in groups if g.backend == "vllm" for b in g.benchmarks] == ["gsm8k"]


def test_hub_data_that_cannot_be_had_fails_the_run_for_good_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.datasources import needs_network
    from benchmarks.target import PermanentRunError

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    plan = plan_sources(OPEN_LLM_V1, "hub", datasets_dir=tmp_path, hub_online=lambda: False)
    with pytest.raises(PermanentRunError, match="run `evalboard datasets pull` on a connected machine"):
        needs_network(plan, OPEN_LLM_V1, tmp_path, hub_online=lambda: False)
    assert needs_network(plan, OPEN_LLM_V1, tmp_path, hub_online=lambda: True)  # downloads, online
    for spec in OPEN_LLM_V1.benchmarks:
        record_pulled(tmp_path, spec.task, [])
    assert not needs_network(plan, OPEN_LLM_V1, tmp_path, hub_online=lambda: False)  # all saved


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_judge_question_sets_follow_mt_bench_and_alpaca_eval_schemas(lang: str) -> None:
    """24 two-turn questions, 3 per MT-Bench category, references exactly where grading is
    reference-guided; 24 instructions with reference outputs of varied length (the length-controlled
    win rate needs a spread)."""
    from evaluators.judge.single import REFERENCE_CATEGORIES, Question, not_korean

    questions = [
        Question.from_record(r) for r in read_jsonl(bundle_dir(f"judge_{lang}_mt_bench") / "test.jsonl")
    ]
    categories = [q.category for q in questions]
    assert len(questions) == 24 and len(set(q.id for q in questions)) == 24
    assert {c: categories.count(c) for c in set(categories)} == {
        c: 3
        for c in ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities")
    }
    for question in questions:
        assert len(question.turns) == 2 and all(t.strip() for t in question.turns)
        assert question.reference_guided == (question.category in REFERENCE_CATEGORIES), question.id
        assert bool(question.references) == (question.category in REFERENCE_CATEGORIES), question.id
        if lang == "ko":
            assert not not_korean(question.turns[0]), question.id
    pairs = read_jsonl(bundle_dir(f"judge_{lang}_pairwise") / "test.jsonl")
    assert len(pairs) == 24 and len({p["id"] for p in pairs}) == 24
    assert all(p["instruction"].strip() and p["output"].strip() and p["generator"] for p in pairs)
    lengths = sorted(len(p["output"]) for p in pairs)
    assert lengths[-1] > 3 * lengths[0]
