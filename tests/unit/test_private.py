"""Private held-out benchmarks: registry validation, the generated lm-eval tasks, the suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.catalog import get_suite
from benchmarks.datasources import plan_sources, request_label
from benchmarks.private import (
    PRIVATE_SUITE,
    PrivateBenchmarkError,
    private_suite,
    read_registry,
    register,
)

MULTIPLE_CHOICE = [
    {"question": "What is the capital of France?", "choices": ["Paris", "Rome", "Berlin"], "answer": 0},
    {"question": "2 + 2 = ?", "choices": ["3", "4"], "answer": 1},
    {
        "question": "대한민국의 수도는?",
        "choices": ["부산", "서울", "대구", "인천"],
        "answer": 1,
        "lang": "ko",
    },
]
GENERATION = [
    {"question": "What is the capital of France?", "answer": "Paris"},
    {"question": "대한민국의 수도는?", "answer": "서울", "aliases": ["서울특별시"], "lang": "ko"},
    {"question": "Which planet is the largest?", "answer": "Jupiter"},
]


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def register_both(private_dir: Path, tmp_path: Path) -> None:
    register(
        private_dir,
        "held_mc",
        write_jsonl(tmp_path / "mc.jsonl", MULTIPLE_CHOICE),
        "multiple_choice",
        "Held-out MC",
        "비공개 객관식",
        num_fewshot=1,
    )
    register(
        private_dir,
        "held_qa",
        write_jsonl(tmp_path / "qa.jsonl", GENERATION),
        "generation",
        "Held-out QA",
        "비공개 단답형",
        language="en+ko",
    )


def test_register_stores_items_task_and_entry_and_builds_the_suite(tmp_path: Path) -> None:
    private_dir = tmp_path / "private"
    assert private_suite(private_dir) is None
    with pytest.raises(KeyError, match="unknown suite 'private'"):
        get_suite(PRIVATE_SUITE, private_dir)
    register_both(private_dir, tmp_path)

    stored = (private_dir / "data" / "held_qa" / "test.jsonl").read_text().splitlines()
    assert json.loads(stored[0]) == {**GENERATION[0], "aliases": [], "lang": "en"}  # one schema for all rows
    assert (private_dir / "tasks" / "evalboard_private_held_mc.yaml").is_file()
    suite = get_suite(PRIVATE_SUITE, private_dir)
    assert [spec.name for spec in suite.benchmarks] == ["held_mc", "held_qa"]
    mc, qa = suite.benchmarks
    assert all(spec.private for spec in suite.benchmarks)
    assert (mc.task, mc.primary_metric, mc.request_type, mc.num_fewshot) == (
        "evalboard_private_held_mc", "acc", "loglikelihood", 1
    )  # fmt: skip
    assert mc.random_baseline == pytest.approx((1 / 3 + 1 / 2 + 1 / 4) / 3, abs=1e-6)
    assert (qa.primary_metric, qa.request_type, qa.language) == ("exact_match", "generate", "en+ko")
    with pytest.raises(KeyError):
        get_suite(PRIVATE_SUITE)  # known only where the private folder is given

    # The same name again replaces data, task and entry (a new data file is a new version).
    before = read_registry(private_dir)["held_mc"]
    register(
        private_dir,
        "held_mc",
        write_jsonl(tmp_path / "mc2.jsonl", MULTIPLE_CHOICE[:2]),
        "multiple_choice",
        "Held-out MC v2",
        "비공개 객관식 2",
    )
    after = read_registry(private_dir)
    assert sorted(after) == ["held_mc", "held_qa"]
    assert (after["held_mc"].items, after["held_mc"].display_en) == (2, "Held-out MC v2")
    assert after["held_mc"].spec().version != before.spec().version


def test_the_private_suite_always_runs_on_its_own_items(tmp_path: Path) -> None:
    register_both(tmp_path / "private", tmp_path)
    suite = get_suite(PRIVATE_SUITE, tmp_path / "private")
    for requested in ("auto", "hub", "bundled"):
        plan = plan_sources(suite, requested, datasets_dir=tmp_path, hub_online=lambda: False)
        assert plan == {"held_mc": "private", "held_qa": "private"}
        assert request_label(plan) == "private"


@pytest.mark.parametrize(
    ("kind", "lines", "messages"),
    [
        (
            "multiple_choice",
            [
                MULTIPLE_CHOICE[0],
                {"question": "q", "choices": ["only one"], "answer": 0},
                {"question": "q", "choices": ["a", "b"], "answer": 2},
                "{not json",
                {"choices": ["a", "b"], "answer": "a"},
                [1, 2],
                {"question": "q", "choices": ["a", "b"], "answer": 0, "lang": "fr"},
            ],
            [
                "line 2: 'choices' must be a list of at least 2 strings",
                "line 3: 'answer' 2 is not a choice index (0 to 1)",
                "line 4: not valid JSON",
                "line 5: 'question' must be a non-empty string",
                "line 5: 'answer' must be the index of the correct choice (an integer), got 'a'",
                "line 6: must be a JSON object, got list",
                "line 7: 'lang' must be \"en\" or \"ko\", got 'fr'",
            ],
        ),
        (
            "generation",
            [
                GENERATION[0],
                "",
                {"question": "q", "answer": 3},
                {"question": " ", "answer": "a", "aliases": "a"},
            ],
            [
                "line 3: 'answer' must be a non-empty string",
                "line 4: 'question' must be a non-empty string",
                "line 4: 'aliases' must be a list of strings",
            ],
        ),
    ],
)
def test_every_bad_line_is_reported_with_its_number_and_field(
    tmp_path: Path, kind: str, lines: list[Any], messages: list[str]
) -> None:
    data = write_jsonl(tmp_path / "items.jsonl", lines)
    with pytest.raises(PrivateBenchmarkError) as raised:
        register(tmp_path / "private", "bad_items", data, kind, "Bad", "나쁨")
    for message in messages:
        assert message in str(raised.value)
    assert "line 1:" not in str(raised.value)
    assert read_registry(tmp_path / "private") == {}  # nothing recorded, nothing copied
    assert not (tmp_path / "private" / "data").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Bad-Name"}, "invalid name 'Bad-Name'"),
        ({"name": "x"}, "invalid name 'x'"),
        ({"kind": "essay"}, "unknown kind 'essay'; use one of multiple_choice, generation"),
        ({"num_fewshot": 3}, "num_fewshot 3 needs at least 4 items; the file has 3"),
        ({"language": "fr"}, "unknown language 'fr'"),
        ({"display_ko": " "}, "both titles"),
        ({"data_file": Path("/no/such.jsonl")}, "data file /no/such.jsonl does not exist"),
    ],
)
def test_bad_registrations_say_what_to_change(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "name": "held_mc",
        "data_file": write_jsonl(tmp_path / "mc.jsonl", MULTIPLE_CHOICE),
        "kind": "multiple_choice",
        "display_en": "Held-out",
        "display_ko": "비공개",
        **arguments,
    }
    with pytest.raises(PrivateBenchmarkError) as raised:
        register(tmp_path / "private", **values)
    assert message in str(raised.value)


def test_generated_tasks_build_and_score_in_lm_eval(tmp_path: Path) -> None:
    from lm_eval.tasks import TaskManager, get_task_dict

    from harness.task_index import check, leaf_tasks

    private_dir = tmp_path / "private"
    register_both(private_dir, tmp_path)
    tasks_dir = private_dir / "tasks"
    names = ["evalboard_private_held_mc", "evalboard_private_held_qa"]
    assert check(names, fewshot=1, show=False, tasks_dir=tasks_dir) == 0

    manager = TaskManager(include_path=str(tasks_dir), include_defaults=False)
    tasks = leaf_tasks(get_task_dict(names, manager))
    mc, qa = tasks["evalboard_private_held_mc"], tasks["evalboard_private_held_qa"]
    korean = list(mc.eval_docs)[2]
    assert mc.doc_to_text(korean) == "질문: 대한민국의 수도는?\n답:"
    assert mc.doc_to_choice(korean) == ["부산", "서울", "대구", "인천"] and mc.doc_to_target(korean) == 1
    # Generation is scored by the smoke short-answer rule: aliases and sentence answers count.
    docs = list(qa.eval_docs)
    assert qa.process_results(docs[0], ["The answer is Paris."]) == {"exact_match": 1.0}
    assert qa.process_results(docs[1], ["서울특별시입니다"]) == {"exact_match": 1.0}
    assert qa.process_results(docs[2], ["Saturn"]) == {"exact_match": 0.0}


def test_cli_adds_and_lists_private_benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import app
    from app.config import get_settings

    monkeypatch.setenv("EVALBOARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "answer": ""}])
        common = ["--kind", "generation", "--title-en", "Held QA", "--title-ko", "비공개 단답형"]
        refused = runner.invoke(app, ["private", "add", "held_qa", "--data", str(bad), *common])
        assert refused.exit_code == 2 and "line 1: 'answer' must be a non-empty string" in refused.output
        data = write_jsonl(tmp_path / "qa.jsonl", GENERATION)
        added = runner.invoke(
            app, ["private", "add", "held_qa", "--data", str(data), *common, "--fewshot", "1"]
        )
        assert added.exit_code == 0, added.output
        listed = runner.invoke(app, ["private", "list"])
        assert listed.exit_code == 0 and "held_qa" in listed.output and "generation" in listed.output
        assert read_registry(tmp_path / "home" / "private")["held_qa"].num_fewshot == 1
    finally:
        get_settings.cache_clear()
