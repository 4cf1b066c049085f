"""Write hub datasets where `evalboard datasets pull` leaves them, without the network.

`datasets pull` builds each benchmark's real lm-eval task once online: `datasets` downloads every
config the task reads and prepares it in the cache the worker reads (<datasets dir>/hf), and the
benchmark is then marked in pulled.json. Offline, `datasets` finds a prepared config there by its
repository name (`namespace___name/<config>/<version>/<hash>/`, arrow files and dataset_info.json)
and loads it without asking the hub.

This module produces exactly those files for items in the real schema: the rows go through the
same `datasets` Parquet builder a hub download uses (prepared into a staging folder, then moved to
the repository's cache name), and pulled.json is written by the same function `pull` uses. Nothing
else is faked: lm-eval then runs its own task configs on them, as on a connected server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmarks.datasources import record_pulled
from benchmarks.spec import BenchmarkSpec, Suite

LONG_TEXT = 16  # characters; longer texts are cut to SHORT_TEXT
SHORT_TEXT = 8


def save_like_pull(datasets_dir: Path, repository: str, config: str, splits: dict[str, list[Any]]) -> None:
    """Prepare one (repository, config) from rows per split, as a hub download leaves it."""
    from datasets import Dataset
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.parquet.parquet import Parquet

    namespace, repository_name = repository.split("/")
    name = camelcase_to_snakecase(repository_name)  # the cache's folder name, as `datasets` writes it
    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for split, rows in splits.items():
            path = Path(scratch) / f"{split}-00000-of-00001.parquet"
            Dataset.from_list(rows).to_parquet(str(path))
            files[split] = [str(path)]
        staging = Path(scratch) / "cache"
        # A hub download's cache folder ends in the repository's commit; these rows' digest stands in.
        commit = hashlib.sha256(json.dumps(splits, sort_keys=True, default=str).encode()).hexdigest()[:16]
        builder = Parquet(
            cache_dir=str(staging),
            dataset_name=name,
            config_name=config,
            config_id=config,
            hash=commit,
            data_files=files,
        )
        builder.download_and_prepare()
        target = datasets_dir / "hf" / f"{namespace}___{name}" / config
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staging / name / config), target)
    for lock in target.rglob("*.lock"):
        lock.unlink()


@lru_cache(maxsize=1)
def _builtin_index() -> Any:
    """lm-eval's index of its own task YAMLs (about 10 s to build)."""
    from lm_eval.tasks import TaskManager

    return TaskManager().task_index


def hub_leaves(task: str) -> dict[str, tuple[str, str]]:
    """Leaf task -> (repository, config) of lm-eval's own task or group, read from its YAML index
    (building the tasks would try to download them)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    index = _builtin_index()
    leaves: dict[str, tuple[str, str]] = {}

    def walk(name: str) -> None:
        entry = index[name]
        config = (load_yaml(entry.yaml_path, resolve_func=False) if entry.yaml_path else entry.cfg) or {}
        members = config.get("task") if isinstance(config.get("task"), list) else None
        if members is None and entry.kind.name.lower() == "tag":
            members = [other.name for other in index.values() if name in other.tags]
        if members is None:
            # A repository without named configs is saved under "default".
            leaves[name] = (config["dataset_path"], config.get("dataset_name") or "default")
            return
        for member in members:
            walk(member if isinstance(member, str) else member["task"])

    walk(task)
    return leaves


def bundled_rows(spec: BenchmarkSpec) -> dict[str, dict[str, list[Any]]]:
    """Bundled leaf task -> split -> rows: the spec's sample items, in the real schema."""
    from lm_eval.tasks import TaskManager, get_task_dict

    from benchmarks.catalog import TASKS_DIR
    from benchmarks.lm_eval_link import ensure_link
    from harness.task_index import leaf_tasks

    ensure_link()
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    leaves = leaf_tasks(get_task_dict([spec.task_for("bundled")], manager))
    return {
        name: {split: list(leaf.dataset[split]) for split in leaf.dataset} for name, leaf in leaves.items()
    }


def shorten(value: Any) -> Any:
    """The same schema with every long text cut short, for a quick CPU run of KMMLU's 45 five-shot
    subjects on two CPU cores. Short texts (labels such as Global-MMLU's subject_category) and ids
    (CLIcK selects its subtasks' items by id) stay whole; a choice and the answer that repeats it
    are cut alike, so they still match."""
    if isinstance(value, dict):
        return {key: item if key == "id" else shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shorten(item) for item in value]
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return value[:SHORT_TEXT]
    return value


def save_suite_like_pull(
    datasets_dir: Path, suite: Suite, *, skip: tuple[str, ...] = (), test_items: int = 1
) -> list[str]:
    """Save every hub benchmark of the suite but `skip`, from its bundled items, and mark it pulled.
    A config read by one leaf keeps `test_items` test rows (a quick run); a config several leaves
    filter (CLIcK, Global-MMLU's subject groups) keeps all, so none of them is empty. Returns the
    benchmarks saved."""
    saved = []
    for spec in suite.benchmarks:
        if not spec.has_hub_data or spec.name in skip:
            continue
        bundled = bundled_rows(spec)
        leaves = hub_leaves(spec.task)
        readers: dict[tuple[str, str], int] = {}
        for pair in leaves.values():
            readers[pair] = readers.get(pair, 0) + 1
        done: set[tuple[str, str]] = set()
        for leaf, (repository, config) in leaves.items():
            if (repository, config) in done:
                continue
            done.add((repository, config))
            rows = bundled.get(f"evalboard_bundled_{leaf}") or next(iter(bundled.values()))
            if readers[(repository, config)] == 1:
                rows = {
                    split: items[:test_items] if split == "test" else items for split, items in rows.items()
                }
            short = {split: [shorten(row) for row in items] for split, items in rows.items()}
            save_like_pull(datasets_dir, repository, config, short)
        record_pulled(datasets_dir, spec.task, [list(pair) for pair in sorted(set(leaves.values()))])
        saved.append(spec.name)
    return saved
