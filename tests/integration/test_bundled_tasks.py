"""Every bundled benchmark builds in lm-eval from the repository alone and has enough items."""

from __future__ import annotations

import re

import pytest

from benchmarks.catalog import SUITES, TASKS_DIR
from benchmarks.lm_eval_link import ensure_link
from harness.task_index import leaf_tasks

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize("suite", ["open-llm-v1", "open-llm-v2", "kobench", "gen-ko", "gen-en"])
def test_bundled_samples_have_at_least_20_items_in_the_real_schema(suite: str) -> None:
    from lm_eval.tasks import TaskManager, get_task_dict

    ensure_link()
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    for spec in SUITES[suite].benchmarks:
        leaves = leaf_tasks(get_task_dict([spec.task_for("bundled")], manager))
        docs = [doc for task in leaves.values() for doc in task.eval_docs]
        assert len(docs) >= 20, f"{spec.name}: {len(docs)} bundled items"
        task = next(iter(leaves.values()))
        first = task.eval_docs[0]
        prompt = str(task.doc_to_text(first)) + str(
            task.doc_to_choice(first) if task.OUTPUT_TYPE == "multiple_choice" else ""
        )
        if spec.language == "ko":
            assert HANGUL.search(prompt), f"{spec.name}: a Korean benchmark's prompt has no Hangul"
