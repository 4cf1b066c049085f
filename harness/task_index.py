"""Loading lm-eval tasks, in one place: evalboard's own task index (bundled and private task YAML),
item counts, the hub datasets a real task reads, and a check of bundled tasks without a model
(every task builds, every item renders, few-shot fits):

    python -m harness.task_index evalboard_bundled_arc_challenge --fewshot 25
    python -m harness.task_index evalboard_private_NAME --tasks-dir ~/.evalboard/private/tasks

For each (sub)task it prints the split sizes and the first test item as the model would see it
(with its few-shot context), and fails on any item lm-eval cannot render.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchmarks.catalog import TASKS_DIR, task_dirs
from benchmarks.lm_eval_link import ensure_link


def leaf_tasks(task_dict: dict[Any, Any]) -> dict[str, Any]:
    leaves: dict[str, Any] = {}
    for key, value in task_dict.items():
        if isinstance(value, dict):
            leaves.update(leaf_tasks(value))
        else:
            leaves[getattr(key, "group_name", key) if not isinstance(key, str) else key] = value
    return leaves


def task_manager(tasks_dir: Path = TASKS_DIR, *, builtin: bool = False) -> Any:
    """lm-eval's task manager over evalboard's task YAML (a private set's folder comes with the
    bundled one: catalog.task_dirs) and, with `builtin`, lm-eval's own index of its tasks, which
    costs seconds to build. Our bundled tasks reach lm-eval's configs through the link
    ensure_link makes, by file `include:`, so most runs leave `builtin` off."""
    from lm_eval.tasks import TaskManager

    ensure_link()
    return TaskManager(include_path=[str(path) for path in task_dirs(tasks_dir)], include_defaults=builtin)


def item_counts(tasks: list[str]) -> dict[str, int]:
    """Evaluation items per bundled task, counted by building the tasks in lm-eval (no model)."""
    from lm_eval.tasks import get_task_dict

    manager = task_manager()
    counts = {}
    for task in tasks:
        leaves = leaf_tasks(get_task_dict([task], manager))
        counts[task] = sum(len(list(leaf.eval_docs)) for leaf in leaves.values())
    return counts


def hub_datasets(task: str) -> list[list[str | None]]:
    """Build lm-eval's real task (downloading its data); the (path, name) of the datasets it read."""
    from lm_eval.tasks import TaskManager, get_task_dict

    leaves = leaf_tasks(get_task_dict([task], TaskManager()))
    pairs = {(leaf.config.dataset_path, leaf.config.dataset_name) for leaf in leaves.values()}
    return [[path, name] for path, name in sorted(pairs, key=lambda pair: (pair[0] or "", pair[1] or ""))]


def check(task_names: list[str], fewshot: int, show: bool = True, tasks_dir: Path = TASKS_DIR) -> int:
    from lm_eval.tasks import get_task_dict

    manager = task_manager(tasks_dir)
    problems = 0
    for name, task in leaf_tasks(get_task_dict(task_names, manager)).items():
        task.set_config(key="num_fewshot", value=fewshot)
        docs = list(task.eval_docs)
        sizes = {split: len(task.dataset[split]) for split in task.dataset}
        print(f"== {name}: splits {sizes}, {len(docs)} eval docs, output {task.OUTPUT_TYPE}")
        for index, doc in enumerate(docs):
            try:
                context = task.fewshot_context(doc, num_fewshot=fewshot)
                target = task.doc_to_target(doc)
                choices = task.doc_to_choice(doc) if task.OUTPUT_TYPE == "multiple_choice" else None
                if choices is not None and isinstance(target, int) and not 0 <= target < len(choices):
                    raise ValueError(f"target index {target} outside {len(choices)} choices")
            except Exception as exc:  # report every broken item, not only the first
                problems += 1
                print(f"  item {index}: {type(exc).__name__}: {exc}")
                continue
            if show and index == 0:
                print(f"--- context ({len(context)} chars, last 600):\n{context[-600:]}")
                print(f"--- target: {target!r}; choices: {choices!r}")
    print("OK" if not problems else f"{problems} broken items", file=sys.stderr)
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tasks", nargs="+")
    parser.add_argument("--fewshot", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--tasks-dir",
        type=Path,
        default=TASKS_DIR,
        help="Task YAML folder (private tasks: <private_dir>/tasks)",
    )
    args = parser.parse_args()
    sys.exit(check(args.tasks, args.fewshot, show=not args.quiet, tasks_dir=args.tasks_dir))


if __name__ == "__main__":
    main()
