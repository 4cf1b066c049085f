"""The ko-h5 private-set templates: each bundled stand-in builds in lm-eval and renders every item
with the leaderboard's few-shot, holds at least 20 Korean items in the real set's schema (the fields
and JSON types an operator's --data file must have), and each spec names its own template."""

from __future__ import annotations

import re
from typing import Any

import pytest

from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl
from benchmarks.catalog import TASKS_DIR
from benchmarks.lm_eval_link import ensure_link
from benchmarks.spec import BenchmarkSpec
from benchmarks.suites.ko_h5 import KO_H5
from harness.task_index import check, leaf_tasks

TEMPLATE_DIR = TASKS_DIR / "ko_leaderboard"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# The real sets' schemas (the English originals' field names, as lm-eval's configs read them).
SCHEMAS: dict[str, dict[str, type]] = {
    "ko_arc": {"id": str, "question": str, "choices": dict, "answerKey": str},
    "ko_hellaswag": {
        "ind": int,
        "activity_label": str,
        "ctx_a": str,
        "ctx_b": str,
        "ctx": str,
        "endings": list,
        "source_id": str,
        "split": str,
        "split_type": str,
        "label": str,
    },
    "ko_mmlu": {"question": str, "subject": str, "choices": list, "answer": int},
    "ko_truthfulqa": {"question": str, "mc1_targets": dict, "mc2_targets": dict},
    "ko_commongen_v2": {"concept_set": str, "1": str, "2": str, "3": str, "4": str, "gold": int},
}
SPECS = {spec.name: spec for spec in KO_H5.benchmarks}


def answer_problem(name: str, item: dict[str, Any]) -> str | None:
    """Why an item's answer cannot be scored, or None."""
    if name == "ko_arc":
        choices = item["choices"]
        ok = len(choices["text"]) == len(choices["label"]) == 4 and item["answerKey"] in choices["label"]
    elif name == "ko_hellaswag":
        ok = len(item["endings"]) == 4 and item["label"] in {"0", "1", "2", "3"}
        ok = ok and item["ctx"] == f"{item['ctx_a']} {item['ctx_b']}".strip()
    elif name == "ko_mmlu":
        ok = len(item["choices"]) == 4 and item["answer"] in range(4)
    elif name == "ko_truthfulqa":
        mc1, mc2 = item["mc1_targets"], item["mc2_targets"]
        ok = mc1["labels"][0] == 1 and sum(mc1["labels"]) == 1 and len(mc1["labels"]) == len(mc1["choices"])
        ok = ok and 1 in mc2["labels"] and 0 in mc2["labels"] and len(mc2["labels"]) == len(mc2["choices"])
    else:
        ok = item["gold"] in range(1, 5) and len(item["concept_set"].split("#")) >= 2
    return None if ok else f"unscorable answer in {item}"


def test_the_suite_holds_the_five_ko_h5_templates_each_naming_its_own() -> None:
    assert KO_H5.name == "ko-h5"
    assert list(SPECS) == list(SCHEMAS)
    for name, spec in SPECS.items():
        assert spec.template == f"ko-h5/{name}"
        assert spec.task == f"evalboard_{name}" and spec.bundled_task is None
        assert spec.language == "ko" and not spec.hub_datasets and spec.source and spec.size
        assert (TEMPLATE_DIR / f"{name}.yaml").is_file()
    assert {name: spec.num_fewshot for name, spec in SPECS.items()} == {
        "ko_arc": 25,
        "ko_hellaswag": 10,
        "ko_mmlu": 5,
        "ko_truthfulqa": 0,
        "ko_commongen_v2": 2,
    }


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_each_template_reads_its_items_the_way_registration_swaps_them(name: str) -> None:
    text = (TEMPLATE_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    spec = SPECS[name]
    assert f"task: {spec.task}\n" in text
    assert "custom_dataset: !function benchmarks.bundled_data.load\n" in text
    assert f"dataset_kwargs:\n  bundle: {name}\n" in text
    assert "test_split: test\n" in text and f"num_fewshot: {spec.num_fewshot}\n" in text
    few_shot = spec.num_fewshot > 0
    assert ("fewshot_split: train\n" in text) == few_shot
    assert ("training_split: train\n" in text) == few_shot


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_each_sample_has_20_korean_items_in_the_real_schema(name: str) -> None:
    spec, schema = SPECS[name], SCHEMAS[name]
    splits = {path.stem: read_jsonl(path) for path in (BUNDLED_DATA_DIR / name).glob("*.jsonl")}
    assert len(splits["test"]) >= 20
    if spec.num_fewshot:  # the few-shot pool leaves room for one more than the count
        assert len(splits.get("train", [])) >= spec.num_fewshot + 1
    for item in (item for rows in splits.values() for item in rows):
        assert set(item) == set(schema), f"{name}: fields {sorted(item)}"
        assert all(isinstance(item[field], kind) for field, kind in schema.items()), item
        assert HANGUL.search(str(item)), f"{name}: no Hangul in {item}"
        assert answer_problem(name, item) is None


@pytest.mark.parametrize("spec", KO_H5.benchmarks, ids=lambda spec: spec.name)
def test_each_template_builds_and_renders_every_item_with_its_few_shot(spec: BenchmarkSpec) -> None:
    assert check([spec.task], spec.num_fewshot, show=False) == 0


def test_the_primary_metric_is_one_the_task_reports() -> None:
    from lm_eval.tasks import TaskManager, get_task_dict

    ensure_link()
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    tasks = leaf_tasks(get_task_dict([spec.task for spec in KO_H5.benchmarks], manager))
    for spec in KO_H5.benchmarks:
        task = tasks[spec.task]
        reported = {metric["metric"] for metric in task.config.metric_list}
        assert spec.primary_metric.split(",")[0] in reported, (spec.name, reported)
        assert task.OUTPUT_TYPE == "multiple_choice" and spec.request_type == "loglikelihood"
        assert len(task.eval_docs) >= 20
