"""Private-set templates: an operator's real items swap in for a suite's bundled stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl
from benchmarks.catalog import SUITES, get_suite
from benchmarks.datasources import plan_sources, request_label
from benchmarks.private import PrivateBenchmarkError, private_suite, read_registry
from benchmarks.private_templates import item_schema, register_template, template_spec, templates

ARC = "ko-h5/ko_arc"


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)
    )
    return path


def held_items(count: int) -> list[dict[str, Any]]:
    """Items in Ko-ARC's schema, standing in for the set its owners hold."""
    return [
        {
            "id": f"held-{index}",
            "question": f"질문 {index}: 물이 어는 온도는?",
            "choices": {"text": ["0도", "10도", "50도", "100도"], "label": ["A", "B", "C", "D"]},
            "answerKey": "A",
        }
        for index in range(count)
    ]


def test_every_template_belongs_to_its_suite_and_has_a_stand_in() -> None:
    known = templates()
    assert ARC in known and all(key.startswith(("ko-h5/", "ko-llm-v2/")) for key in known)
    for key, spec in known.items():
        suite, name = key.split("/")
        assert spec.name == name and spec in SUITES[suite].benchmarks
        assert not spec.has_hub_data and not spec.private  # the stand-in runs the bundled sample
        assert (BUNDLED_DATA_DIR / name / "test.jsonl").is_file()


def test_registering_a_template_makes_its_benchmark_real_data_in_its_suite(tmp_path: Path) -> None:
    private_dir = tmp_path / "private"
    entry = register_template(private_dir, "ko_arc", ARC, write_jsonl(tmp_path / "arc.jsonl", held_items(30)))
    assert (entry.template, entry.items, entry.kind) == (ARC, 30, "template")
    assert private_suite(private_dir) is None  # it joins ko-h5, not the "private" suite
    suite = get_suite("ko-h5", private_dir)
    arc = suite.benchmark("ko_arc")
    assert arc.private and arc.task == "evalboard_private_ko_arc" and arc.template == ARC
    assert arc.num_fewshot == template_spec(ARC).num_fewshot and arc.version.startswith("1.0+private-")
    plan = plan_sources(suite, "auto", datasets_dir=tmp_path, hub_online=lambda: False)
    assert plan["ko_arc"] == "private" and plan["ko_hellaswag"] == "bundled"
    assert request_label(plan) == "mixed"  # ko_arc ranks on the real board, the stand-ins do not
    assert get_suite("ko-h5").benchmark("ko_arc").task == "evalboard_ko_arc"  # without the private dir

    task_yaml = (private_dir / "tasks" / "evalboard_private_ko_arc.yaml").read_text()
    assert "include:" in task_yaml and "ko_leaderboard/ko_arc.yaml" in task_yaml
    assert "fewshot_split: test" in task_yaml  # no few-shot file: drawn from the items themselves
    stored = read_jsonl(private_dir / "data" / "ko_arc" / "test.jsonl")
    assert stored[0] == held_items(1)[0] and len(stored) == 30


def test_few_shot_examples_can_come_from_their_own_file(tmp_path: Path) -> None:
    private_dir = tmp_path / "private"
    items = write_jsonl(tmp_path / "arc.jsonl", held_items(3))
    shots = write_jsonl(tmp_path / "shots.jsonl", held_items(25))
    register_template(private_dir, "ko_arc", ARC, items, shots)
    assert len(read_jsonl(private_dir / "data" / "ko_arc" / "train.jsonl")) == 25
    assert "fewshot_split: train" in (private_dir / "tasks" / "evalboard_private_ko_arc.yaml").read_text()
    assert read_registry(private_dir)["ko_arc"].items == 3


def test_items_in_the_wrong_schema_are_refused_with_line_and_field(tmp_path: Path) -> None:
    private_dir = tmp_path / "private"
    good = held_items(30)
    bad = [
        *good[:2],
        {**good[2], "answerKey": 1},
        {k: v for k, v in good[3].items() if k != "question"},
        "[1]",
    ]
    with pytest.raises(PrivateBenchmarkError) as refused:
        register_template(private_dir, "ko_arc", ARC, write_jsonl(tmp_path / "bad.jsonl", [*bad, *good[4:]]))
    message = str(refused.value)
    assert "line 3: field 'answerKey' must be a string, got number" in message
    assert "line 4: missing field 'question' (string)" in message
    assert "line 5: must be a JSON object" in message
    assert "template ko-h5/ko_arc reads: id (string), question (string)" in message
    assert not private_dir.joinpath("registry.json").exists()  # nothing half-registered


def test_a_template_needs_its_own_name_and_enough_items_for_its_shots(tmp_path: Path) -> None:
    private_dir = tmp_path / "private"
    data = write_jsonl(tmp_path / "arc.jsonl", held_items(30))
    with pytest.raises(PrivateBenchmarkError, match="registers the benchmark 'ko_arc'; name it so"):
        register_template(private_dir, "arc", ARC, data)
    with pytest.raises(PrivateBenchmarkError, match="unknown template 'ko-h5/nope'; templates: "):
        register_template(private_dir, "nope", "ko-h5/nope", data)
    few = write_jsonl(tmp_path / "few.jsonl", held_items(10))
    with pytest.raises(PrivateBenchmarkError, match="is 25-shot: give at least 25 few-shot examples"):
        register_template(private_dir, "ko_arc", ARC, few)


def test_the_schema_is_the_stand_ins_fields() -> None:
    assert item_schema(template_spec(ARC)) == {
        "id": "string",
        "question": "string",
        "choices": "object",
        "answerKey": "string",
    }
