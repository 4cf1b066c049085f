"""Private held-out benchmarks: items that live only on this server.

An admin registers a local JSONL file (`evalboard private add`); it is validated, copied to
`<private_dir>/data/<name>/test.jsonl`, given an lm-eval task YAML in `<private_dir>/tasks/` and
recorded in `<private_dir>/registry.json`. The registered benchmarks form the suite "private":
their scores are public, their items and per-sample logs are never served (BenchmarkSpec.private).

Plain data and the standard library only: the API process imports this through the catalog.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.spec import BenchmarkSpec, Suite

PRIVATE_SUITE = "private"
TASK_PREFIX = "evalboard_private_"
REGISTRY_FILE = "registry.json"
KINDS = ("multiple_choice", "generation")
LANGUAGES = ("en", "ko", "en+ko")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
MAX_REPORTED_ERRORS = 10
# lm-eval's `!function a.b` loads the file a.py beside the YAML, not an importable module, so the
# task folder gets this small module re-exporting the hooks its YAMLs name.
HOOKS_MODULE = "evalboard_private_hooks"
# Prompts by item language (`lang`), as the smoke tasks word them.
CHOICE_PROMPT = (
    "{% if lang == 'ko' %}질문: {{question}}\n답:{% else %}Question: {{question}}\nAnswer:{% endif %}"
)
SHORT_ANSWER_PROMPT = (
    "{% if lang == 'ko' %}다음 질문에 몇 단어로만 답하세요.\n질문: {{question}}\n답:"
    "{% else %}Answer the question with a few words only.\nQuestion: {{question}}\nAnswer:{% endif %}"
)
HOOKS_SOURCE = '''"""Written by evalboard (benchmarks/private.py): hooks the private task YAMLs here name."""

from benchmarks.private import load_items  # noqa: F401
from benchmarks.private_templates import load_split_files  # noqa: F401
from benchmarks.tasks.smoke.metrics import process_results  # noqa: F401
'''


class PrivateBenchmarkError(ValueError):
    """A registration that cannot be accepted; the message says what to change."""


@dataclass(frozen=True)
class PrivateBenchmark:
    """One registry entry."""

    name: str
    kind: str  # multiple_choice | generation
    display_en: str
    display_ko: str
    num_fewshot: int
    language: str
    items: int
    random_baseline: float
    sha256: str  # of the stored items: a replaced data file is a new benchmark version
    registered_at: str
    # A private-set template's id ("ko-llm-v2/ko_gpqa"): the benchmark belongs to that suite, not
    # to the "private" one (benchmarks/private_templates.py).
    template: str | None = None

    @property
    def task(self) -> str:
        return f"{TASK_PREFIX}{self.name}"

    def spec(self) -> BenchmarkSpec:
        if self.template:
            from benchmarks.private_templates import registered_spec

            return registered_spec(self.template, self.task, self.items, self.sha256)
        generation = self.kind == "generation"
        return BenchmarkSpec(
            name=self.name,
            task=self.task,
            display_en=self.display_en,
            display_ko=self.display_ko,
            num_fewshot=self.num_fewshot,
            primary_metric="exact_match" if generation else "acc",
            language=self.language,
            random_baseline=self.random_baseline,
            version=f"private-{self.sha256[:12]}",
            request_type="generate" if generation else "loglikelihood",
            description=(
                f"Private held-out benchmark ({self.kind.replace('_', ' ')}, {self.items} items). "
                "Its items and per-sample logs stay on this server; only scores are published."
            ),
            size=f"{self.items} items",
            private=True,
        )


# --- reading ---------------------------------------------------------------------------------


def read_registry(private_dir: Path) -> dict[str, PrivateBenchmark]:
    path = private_dir / REGISTRY_FILE
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text("utf-8")).get("benchmarks", {})
    return {name: PrivateBenchmark(**entry) for name, entry in sorted(entries.items())}


def private_suite(private_dir: Path) -> Suite | None:
    """The suite of every registered private benchmark; None when none is registered."""
    registry = {name: entry for name, entry in read_registry(private_dir).items() if not entry.template}
    if not registry:
        return None
    return Suite(
        name=PRIVATE_SUITE,
        title_en="Private held-out",
        title_ko="비공개 평가",
        description=(
            "Benchmarks whose items exist only on this server, so no model can have trained on them. "
            "Scores are public; items and per-sample logs are never served."
        ),
        benchmarks=tuple(entry.spec() for entry in registry.values()),
    )


def registered_templates(private_dir: Path) -> dict[str, BenchmarkSpec]:
    """Template id -> the spec running on the items an operator registered for it."""
    return {entry.template: entry.spec() for entry in read_registry(private_dir).values() if entry.template}


def load_items(data_file: str = "", **_metadata: Any) -> Any:
    """lm-eval custom_dataset hook: the stored items as a DatasetDict with one "test" split.

    lm-eval calls it with the YAML's dataset_kwargs (data_file) plus its metadata (version, model
    arguments), hence **_metadata. datasets is imported here: the API process never calls this."""
    from datasets import Dataset, DatasetDict

    with open(data_file, encoding="utf-8") as handle:
        return DatasetDict({"test": Dataset.from_list([json.loads(line) for line in handle if line.strip()])})


# --- registering -----------------------------------------------------------------------------


def _check_multiple_choice(item: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        problems.append("'question' must be a non-empty string")
    choices = item.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        problems.append("'choices' must be a list of at least 2 strings")
        choices = None
    answer = item.get("answer")
    if not isinstance(answer, int) or isinstance(answer, bool):
        problems.append(f"'answer' must be the index of the correct choice (an integer), got {answer!r}")
    elif choices is not None and not 0 <= answer < len(choices):
        problems.append(f"'answer' {answer} is not a choice index (0 to {len(choices) - 1})")
    return problems


def _check_generation(item: dict[str, Any]) -> list[str]:
    problems = []
    for field in ("question", "answer"):
        if not isinstance(item.get(field), str) or not item[field].strip():
            problems.append(f"{field!r} must be a non-empty string")
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        problems.append("'aliases' must be a list of strings")
    return problems


def read_items(data_file: Path, kind: str, language: str) -> list[dict[str, Any]]:
    """Every item of a JSONL file, validated; errors name the line number and the field."""
    if kind not in KINDS:
        raise PrivateBenchmarkError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    check = _check_multiple_choice if kind == "multiple_choice" else _check_generation
    default_lang = "ko" if language == "ko" else "en"

    def problems(item: dict[str, Any]) -> list[str]:
        found = check(item)
        if item.get("lang", default_lang) not in ("en", "ko"):
            found.append(f'\'lang\' must be "en" or "ko", got {item["lang"]!r}')
        return found

    return read_checked_jsonl(data_file, problems, lambda item: _stored(kind, item, default_lang))


def read_checked_jsonl(
    data_file: Path,
    problems: Callable[[dict[str, Any]], list[str]],
    stored: Callable[[dict[str, Any]], dict[str, Any]],
    error: type[PrivateBenchmarkError] = PrivateBenchmarkError,
) -> list[dict[str, Any]]:
    """Every line of a JSONL file as the item `stored` keeps, or one `error` naming the line
    numbers and what to fix on each (the first MAX_REPORTED_ERRORS)."""
    if not data_file.is_file():
        raise error(f"data file {data_file} does not exist")
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    with data_file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(item, dict):
                errors.append(f"line {number}: must be a JSON object, got {type(item).__name__}")
                continue
            errors.extend(f"line {number}: {problem}" for problem in problems(item))
            items.append(stored(item))
    if errors:
        more = len(errors) - MAX_REPORTED_ERRORS
        shown = "; ".join(errors[:MAX_REPORTED_ERRORS]) + (f"; and {more} more" if more > 0 else "")
        raise error(f"{data_file}: {shown}")
    if not items:
        raise error(f"{data_file} holds no items")
    return items


def _stored(kind: str, item: dict[str, Any], default_lang: str) -> dict[str, Any]:
    """The fields the task reads, each on every row (a dataset needs one schema for all rows; a
    missing key would come back as None), and nothing else."""
    fields = ("question", "choices", "answer") if kind == "multiple_choice" else ("question", "answer")
    stored = {field: item.get(field) for field in fields}
    if kind == "generation":
        stored["aliases"] = item.get("aliases", [])
    return {**stored, "lang": item.get("lang", default_lang)}


def register(
    private_dir: Path,
    name: str,
    data_file: Path,
    kind: str,
    display_en: str,
    display_ko: str,
    num_fewshot: int = 0,
    language: str = "en",
) -> PrivateBenchmark:
    """Validate and store a benchmark's items, write its task YAML, record it. The same name again
    replaces the earlier registration (its data, task and entry)."""
    if not NAME_PATTERN.match(name):
        raise PrivateBenchmarkError(
            f"invalid name {name!r}: use 2-41 characters, lowercase letters, digits and _, starting "
            "with a letter"
        )
    if language not in LANGUAGES:
        raise PrivateBenchmarkError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    if not display_en.strip() or not display_ko.strip():
        raise PrivateBenchmarkError("both titles (English and Korean) are needed")
    items = read_items(Path(data_file), kind, language)
    if not 0 <= num_fewshot < len(items):
        raise PrivateBenchmarkError(
            f"num_fewshot {num_fewshot} needs at least {num_fewshot + 1} items; the file has {len(items)}"
        )
    stored = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    baseline = (
        sum(1.0 / len(item["choices"]) for item in items) / len(items) if kind == "multiple_choice" else 0.0
    )
    entry = PrivateBenchmark(
        name=name,
        kind=kind,
        display_en=display_en.strip(),
        display_ko=display_ko.strip(),
        num_fewshot=num_fewshot,
        language=language,
        items=len(items),
        random_baseline=round(baseline, 6),
        sha256=hashlib.sha256(stored.encode()).hexdigest(),
        registered_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with locked(private_dir):
        data_path = private_dir / "data" / name / "test.jsonl"
        write_atomic(data_path, stored)
        write_atomic(private_dir / "tasks" / f"{HOOKS_MODULE}.py", HOOKS_SOURCE)
        write_atomic(private_dir / "tasks" / f"{entry.task}.yaml", task_yaml(entry, data_path))
        save_entry(private_dir, entry)
    return entry


def save_entry(private_dir: Path, entry: PrivateBenchmark) -> None:
    """Record an entry (the caller holds the lock); the same name replaces the earlier one."""
    registry = read_registry(private_dir)
    registry[entry.name] = entry
    document = {"benchmarks": {key: asdict(value) for key, value in registry.items()}}
    write_atomic(private_dir / REGISTRY_FILE, json.dumps(document, indent=2, ensure_ascii=False))


def task_yaml(entry: PrivateBenchmark, data_path: Path) -> str:
    """The lm-eval task. Few-shot examples come from the same items (lm-eval leaves out the item
    being asked); items carry `lang`, which picks the prompt language."""
    head = [
        f"# Written by `evalboard private add` for the private benchmark {entry.name}.",
        "# Its items stay on this server; do not copy this folder anywhere public.",
        f"task: {entry.task}",
        f"custom_dataset: !function {HOOKS_MODULE}.load_items",
        "dataset_kwargs:",
        f"  data_file: {json.dumps(str(data_path.resolve()))}",
        "test_split: test",
        "fewshot_split: test",
    ]
    if entry.kind == "multiple_choice":
        body = [
            "output_type: multiple_choice",
            f"doc_to_text: {_yaml_string(CHOICE_PROMPT)}",
            "doc_to_choice: choices",
            "doc_to_target: answer",
            "metric_list:",
            *_metric("acc"),
            *_metric("acc_norm"),
        ]
    else:
        body = [
            "output_type: generate_until",
            f"doc_to_text: {_yaml_string(SHORT_ANSWER_PROMPT)}",
            "doc_to_target: answer",
            "generation_kwargs:",
            '  until: ["\\n", "<|im_end|>"]',
            "  do_sample: false",
            "  max_gen_toks: 32",
            "# The smoke short-answer scoring: aliases count, and so does an answer opening a sentence.",
            f"process_results: !function {HOOKS_MODULE}.process_results",
            "metric_list:",
            *_metric("exact_match"),
        ]
    return "\n".join([*head, *body, "metadata:", "  version: 1.0", ""])


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string escapes are a subset of YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _metric(name: str) -> list[str]:
    return [f"  - metric: {name}", "    aggregation: mean", "    higher_is_better: true"]


@contextmanager
def locked(private_dir: Path) -> Iterator[None]:
    """Two admins registering at once must not lose each other's registry entry."""
    private_dir.mkdir(parents=True, exist_ok=True)
    with (private_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)
