"""Private-set templates: benchmarks whose real items are held by their owners (the Open Ko-LLM
Leaderboard's Ko-H5 and season 2 sets), defined here as the leaderboard ran them (task config,
metric, few-shot, chance level), with a bundled sample written for evalboard standing in offline.

An operator who holds a set activates its template with one command:

    evalboard private add ko_gpqa --template ko-llm-v2/ko_gpqa --data ko_gpqa.jsonl

The file is checked against the template's item schema (the bundled sample's fields and JSON
types), stored under `<private_dir>/data/NAME/`, and given a task YAML that includes the template's
own and swaps only the data. From then on the suite's benchmark runs on those items, labelled
"private" (real data, items never served), and ranks on the real-data board; the suite's other
benchmarks keep their stand-ins until they are registered too (per-benchmark data labels).

Plain data and the standard library only: the API process reads templates through the catalog.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl
from benchmarks.private import (
    HOOKS_MODULE,
    HOOKS_SOURCE,
    PrivateBenchmark,
    PrivateBenchmarkError,
    locked,
    read_checked_jsonl,
    save_entry,
    write_atomic,
)
from benchmarks.spec import BenchmarkSpec, Suite

TEMPLATE_TASKS_DIR = Path(__file__).resolve().parent / "tasks" / "ko_leaderboard"
TEST_SPLIT = "test"
FEWSHOT_SPLIT = "train"
JSON_TYPES: dict[type, str] = {str: "string", int: "number", float: "number", bool: "boolean"}


class TemplateError(PrivateBenchmarkError):
    """A template registration that cannot be accepted; the message says what to change."""


def template_suites() -> list[Suite]:
    """The built-in suites holding private-set templates (imported late: the catalog imports us)."""
    from benchmarks.catalog import SUITES

    return [suite for suite in SUITES.values() if any(spec.template for spec in suite.benchmarks)]


def templates() -> dict[str, BenchmarkSpec]:
    """ "suite/name" -> the template's stand-in spec."""
    return {spec.template: spec for suite in template_suites() for spec in suite.benchmarks if spec.template}


def template_spec(template: str) -> BenchmarkSpec:
    known = templates()
    if template not in known:
        raise TemplateError(f"unknown template {template!r}; templates: {', '.join(sorted(known))}")
    return known[template]


def template_yaml(spec: BenchmarkSpec) -> Path:
    return TEMPLATE_TASKS_DIR / f"{spec.name}.yaml"


def bundle_files(spec: BenchmarkSpec) -> dict[str, Path]:
    """The stand-in's split files: {"test": ..., "train": ...} (train only for few-shot templates)."""
    folder = BUNDLED_DATA_DIR / spec.name
    return {path.stem: path for path in sorted(folder.glob("*.jsonl"))}


def item_schema(spec: BenchmarkSpec) -> dict[str, str]:
    """Field -> JSON type, as the template's bundled sample has them (the real set's schema)."""
    first = read_jsonl(bundle_files(spec)[TEST_SPLIT])[0]
    return {field: json_type(value) for field, value in first.items()}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return JSON_TYPES.get(type(value), type(value).__name__)


def read_template_items(data_file: Path, schema: dict[str, str]) -> list[dict[str, Any]]:
    """Every line of a JSONL file as an item with exactly the schema's fields, or a TemplateError
    naming the line numbers and fields to fix."""
    return read_checked_jsonl(
        data_file,
        lambda item: schema_problems(item, schema),
        lambda item: {field: item.get(field) for field in schema},
        TemplateError,
    )


def schema_problems(item: dict[str, Any], schema: dict[str, str]) -> list[str]:
    problems = []
    for field, expected in schema.items():
        if field not in item:
            problems.append(f"missing field {field!r} ({expected})")
        elif expected != "null" and item[field] is not None and json_type(item[field]) != expected:
            problems.append(f"field {field!r} must be a {expected}, got {json_type(item[field])}")
    return problems


def registered_spec(template: str, task: str, items: int, sha256: str) -> BenchmarkSpec:
    """The template's spec running on an operator's registered items: real data, never served."""
    spec = template_spec(template)
    return replace(
        spec,
        task=task,
        bundled_task=None,
        private=True,
        version=f"{spec.version}+private-{sha256[:12]}",
        size=f"{items} items registered on this server",
        description=spec.description + " Runs on the real set registered on this server; its items and "
        "per-sample logs are never served.",
    )


def with_registered(suite: Suite, registered: dict[str, BenchmarkSpec]) -> Suite:
    """The suite with each template the operator registered (by template id) swapped in."""
    if not any(spec.template in registered for spec in suite.benchmarks):
        return suite
    specs = tuple(registered.get(spec.template or "", spec) for spec in suite.benchmarks)
    return replace(suite, benchmarks=specs)


def task_yaml(spec: BenchmarkSpec, task: str, data_dir: Path, hooks_module: str, fewshot_split: str) -> str:
    """The registered task: the template's config with the operator's items."""
    lines = [
        f"# Written by `evalboard private add {spec.name} --template {spec.template}`.",
        "# Its items stay on this server; do not copy this folder anywhere public.",
        f"include: {json.dumps(str(template_yaml(spec)))}",
        f"task: {task}",
        f"custom_dataset: !function {hooks_module}.load_split_files",
        "dataset_kwargs:",
        f"  data_dir: {json.dumps(str(data_dir.resolve()))}",
        f"test_split: {TEST_SPLIT}",
    ]
    if spec.num_fewshot:
        lines += [f"fewshot_split: {fewshot_split}", f"training_split: {fewshot_split}"]
    return "\n".join(lines) + "\n"


def load_split_files(data_dir: str = "", **_metadata: Any) -> Any:
    """lm-eval custom_dataset hook: every <split>.jsonl of a registered template as one split."""
    from datasets import Dataset, DatasetDict

    folder = Path(data_dir)
    return DatasetDict(
        {path.stem: Dataset.from_list(read_jsonl(path)) for path in sorted(folder.glob("*.jsonl"))}
    )


def register_template(
    private_dir: Path, name: str, template: str, data_file: Path, fewshot_file: Path | None = None
) -> PrivateBenchmark:
    """Activate a private-set template with the operator's items (and few-shot examples; without
    them the few-shot context is drawn from the items themselves, never the item being asked)."""
    spec = template_spec(template)
    if name != spec.name:
        raise PrivateBenchmarkError(f"template {template} registers the benchmark {spec.name!r}; name it so")
    schema = item_schema(spec)
    try:
        items = read_template_items(Path(data_file), schema)
        shots = read_template_items(Path(fewshot_file), schema) if fewshot_file else []
    except TemplateError as exc:
        raise PrivateBenchmarkError(f"{exc} (template {template} reads: {_schema_text(schema)})") from exc
    pool = len(shots) if shots else len(items) - 1  # lm-eval leaves the asked item out of its own split
    if spec.num_fewshot > pool:
        raise PrivateBenchmarkError(
            f"template {template} is {spec.num_fewshot}-shot: give at least {spec.num_fewshot} few-shot "
            f"examples with --fewshot-data, or at least {spec.num_fewshot + 1} items"
        )
    splits = {TEST_SPLIT: items} | ({FEWSHOT_SPLIT: shots} if shots else {})
    stored = {
        split: "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in rows)
        for split, rows in splits.items()
    }
    entry = PrivateBenchmark(
        name=name,
        kind="template",
        display_en=spec.display_en,
        display_ko=spec.display_ko,
        num_fewshot=spec.num_fewshot,
        language=spec.language,
        items=len(items),
        random_baseline=spec.random_baseline,
        sha256=hashlib.sha256("".join(stored[s] for s in sorted(stored)).encode()).hexdigest(),
        registered_at=datetime.now(UTC).isoformat(timespec="seconds"),
        template=template,
    )
    fewshot_split = FEWSHOT_SPLIT if shots else TEST_SPLIT
    with locked(private_dir):
        data_dir = private_dir / "data" / name
        for old in data_dir.glob("*.jsonl"):  # a re-registration without few-shot drops the old ones
            old.unlink()
        for split, text in stored.items():
            write_atomic(data_dir / f"{split}.jsonl", text)
        write_atomic(private_dir / "tasks" / f"{HOOKS_MODULE}.py", HOOKS_SOURCE)
        task = task_yaml(spec, entry.task, data_dir, HOOKS_MODULE, fewshot_split)
        write_atomic(private_dir / "tasks" / f"{entry.task}.yaml", task)
        save_entry(private_dir, entry)
    return entry


def _schema_text(schema: dict[str, str]) -> str:
    return ", ".join(f"{field} ({kind})" for field, kind in schema.items())
