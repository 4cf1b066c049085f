"""The bundled samples of HRM8K (GSM8K subset), Global-MMLU-Lite Korean and KorMedMCQA: built by
lm-eval from the repository alone, in each real dataset's schema, renderable with the few-shot
counts KoBench runs them at, and scored by lm-eval's own code as their answers say."""

from __future__ import annotations

import re
from typing import Any

import pytest

from benchmarks.bundled_data import bundle_dir, read_jsonl
from benchmarks.catalog import TASKS_DIR
from benchmarks.lm_eval_link import ensure_link
from harness.task_index import leaf_tasks

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LETTERS = "ABCDE"
# Bundled group or task -> (few-shot count KoBench uses, evaluation items each leaf must have).
BUNDLES = {
    "evalboard_bundled_hrm8k_gsm8k": (0, 20),
    "evalboard_bundled_global_mmlu_ko": (5, 4),
    "evalboard_bundled_kormedmcqa": (5, 4),
}
GLOBAL_MMLU_COLUMNS = {
    "sample_id", "subject", "subject_category", "question", "option_a", "option_b", "option_c",
    "option_d", "answer", "required_knowledge", "time_sensitive", "reference", "culture", "region",
    "country", "cultural_sensitivity_label", "is_annotated",
}  # fmt: skip
KORMEDMCQA_COLUMNS = {"subject", "year", "period", "q_number", "question", *LETTERS, "answer", "cot"}
KORMEDMCQA_CONFIGS = ("doctor", "nurse", "pharm", "dentist")


@pytest.fixture(scope="module")
def leaves() -> dict[str, dict[str, Any]]:
    from lm_eval.tasks import TaskManager, get_task_dict

    ensure_link()
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    return {name: leaf_tasks(get_task_dict([name], manager)) for name in BUNDLES}


@pytest.mark.parametrize("bundle", sorted(BUNDLES))
def test_every_leaf_renders_enough_korean_items_at_the_suites_fewshot(
    bundle: str, leaves: dict[str, dict[str, Any]]
) -> None:
    fewshot, per_leaf = BUNDLES[bundle]
    total = 0
    for name, task in leaves[bundle].items():
        docs = list(task.eval_docs)
        assert len(docs) >= per_leaf, f"{name}: {len(docs)} items"
        total += len(docs)
        for doc in docs:
            context = task.fewshot_context(doc, num_fewshot=fewshot)
            assert HANGUL.search(context), f"{name}: a prompt without Hangul"
            if fewshot:  # k shots, each a full question with its choices, then the question asked
                assert context.count("\nA. ") == fewshot + 1, f"{name}: {context[-300:]}"
    assert total >= 20, f"{bundle}: {total} items"


def test_hrm8k_items_have_its_columns_and_lm_evals_scorer_accepts_their_answers(
    leaves: dict[str, dict[str, Any]],
) -> None:
    rows = read_jsonl(bundle_dir("hrm8k_gsm8k") / "test.jsonl")
    assert all(
        set(row) == {"question", "original", "answer"} and isinstance(row["answer"], int) for row in rows
    )
    assert not any(HANGUL.search(row["original"]) for row in rows)  # the English twin of each question
    task = next(iter(leaves["evalboard_bundled_hrm8k_gsm8k"].values()))
    for doc in task.eval_docs:
        solved = f"풀이를 마쳤다. 최종 답: $\\boxed{{{doc['answer']}}}$"
        assert task.process_results(doc, [solved]) == {"exact_match": 1}
        assert task.process_results(doc, [f"$\\boxed{{{doc['answer'] + 1}}}$"]) == {"exact_match": 0}
    assert (
        task.config.generation_kwargs["max_gen_toks"] == 512
        and not task.config.generation_kwargs["do_sample"]
    )


def test_global_mmlu_items_cover_every_category_in_both_splits() -> None:
    from lm_eval.tasks.global_mmlu.default.ko.utils import CATEGORIES

    splits = {split: read_jsonl(bundle_dir("global_mmlu_ko") / f"{split}.jsonl") for split in ("test", "dev")}
    for split, rows in splits.items():
        assert all(set(row) == GLOBAL_MMLU_COLUMNS and row["answer"] in LETTERS[:4] for row in rows)
        assert all(
            row["sample_id"] == f"{row['subject']}/{split}/{row['sample_id'].rsplit('/', 1)[1]}"
            for row in rows
        )
        counts = {
            category: sum(row["subject_category"] == category for row in rows) for category in CATEGORIES
        }
        # dev feeds each category's 5-shot context; test needs 4 items per subtask.
        assert min(counts.values()) >= (5 if split == "dev" else 4), (split, counts)
        assert sum(counts.values()) == len(rows), f"{split}: a category lm-eval does not know"
    assert {row["cultural_sensitivity_label"] for row in splits["test"]} == {"CA", "CS"}


@pytest.mark.parametrize("config", KORMEDMCQA_CONFIGS)
def test_kormedmcqa_items_have_its_columns_and_answers_match_the_reasoning(config: str) -> None:
    folder = bundle_dir(f"kormedmcqa/{config}")
    test, fewshot = read_jsonl(folder / "test.jsonl"), read_jsonl(folder / "fewshot.jsonl")
    assert len(fewshot) == 5 and len(test) >= 4  # the real fewshot split: 5 shots per exam
    for row in test + fewshot:
        assert set(row) == KORMEDMCQA_COLUMNS and row["subject"] == config
        assert row["answer"] in range(1, 6) and all(
            isinstance(row[key], int) for key in ("year", "period", "q_number")
        )
        assert len({row[letter] for letter in LETTERS}) == 5, f"{row['question']}: repeated choices"
    assert all(row["cot"] is None for row in test)
    for row in fewshot:  # annotated reasoning ends on the keyed answer
        assert row["cot"].endswith(f"정답은 {LETTERS[row['answer'] - 1]}이다."), row["question"]


def test_kormedmcqa_extraction_filter_reads_the_gold_letter(leaves: dict[str, dict[str, Any]]) -> None:
    from lm_eval.tasks.kormedmcqa.utils import extract_choice

    for name, task in leaves["evalboard_bundled_kormedmcqa"].items():
        for doc in task.eval_docs:
            target = task.doc_to_target(doc)
            assert target == LETTERS[doc["answer"] - 1], name
            assert extract_choice(f" {target}. {doc[target]}") == target
