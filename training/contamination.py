"""Does the training data contain benchmark items? 13-gram overlap on normalized text.

The n-gram test follows the GPT-3 paper's contamination study (13-grams, text lower-cased and
stripped of punctuation); tokens are Unicode word runs, so Hangul eojeol count like English words.
Items shorter than 13 tokens are matched whole, from MIN_SHORT_ITEM tokens up: shorter ones ("예",
"True") would match any text. The items are the ones the suite will really be scored on, read
through lm-eval's own task objects (hub or bundled data alike), so the check sees what runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

NGRAM = 13
MIN_SHORT_ITEM = 8
REPORT_LIMIT = 200  # overlaps kept in the report (the count is always exact)
WORD = re.compile(r"\w+")


def normalized_tokens(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a dataset row (question, choices, answers, nested lists)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from strings_in(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from strings_in(inner)


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    task: str
    item: int  # index in the task's evaluation split
    text: str


@dataclass(frozen=True)
class Overlap:
    benchmark: str
    task: str
    item: int
    line: int  # the training example's line in the uploaded file
    ngram: str


def _grams(tokens: list[str], n: int) -> Iterator[tuple[str, ...]]:
    for start in range(len(tokens) - n + 1):
        yield tuple(tokens[start : start + n])


def find_overlaps(
    examples: Iterable[tuple[int, str]], items: Iterable[BenchmarkItem], n: int = NGRAM
) -> list[Overlap]:
    """One Overlap per (training line, benchmark item) sharing an n-gram (or a whole short item)."""
    index: dict[tuple[str, ...], list[BenchmarkItem]] = {}
    lengths = {n}
    for item in items:
        tokens = normalized_tokens(item.text)
        if len(tokens) >= n:
            grams: Iterable[tuple[str, ...]] = set(_grams(tokens, n))
        elif len(tokens) >= MIN_SHORT_ITEM:
            grams = [tuple(tokens)]
            lengths.add(len(tokens))
        else:
            continue
        for gram in grams:
            index.setdefault(gram, []).append(item)
    found: dict[tuple[int, str, str, int], Overlap] = {}
    for line, text in examples:
        tokens = normalized_tokens(text)
        for length in sorted(lengths):
            for gram in _grams(tokens, length):
                for item in index.get(gram, ()):
                    key = (line, item.benchmark, item.task, item.item)
                    if key not in found:
                        found[key] = Overlap(item.benchmark, item.task, item.item, line, " ".join(gram))
    return sorted(found.values(), key=lambda o: (o.line, o.benchmark, o.task, o.item))


def report(overlaps: list[Overlap], items_checked: int, benchmarks: list[str]) -> dict[str, Any]:
    """The JSON stored with the fine-tune and shown on its page; flagged when anything overlaps."""
    return {
        "ngram": NGRAM,
        "benchmarks": benchmarks,
        "items_checked": items_checked,
        "overlap_count": len(overlaps),
        "contaminated_benchmarks": sorted({o.benchmark for o in overlaps}),
        "overlaps": [asdict(o) for o in overlaps[:REPORT_LIMIT]],
    }


def suite_items(suite: Any, *, data_source: str, datasets_dir: Path, tasks_dir: Path) -> list[BenchmarkItem]:
    """The evaluation items of every benchmark in `suite`, from the data the run will use."""
    from benchmarks.bundled_data import bundle_dir, read_jsonl
    from benchmarks.catalog import TASKS_DIR, needs_builtin_tasks
    from benchmarks.datasources import plan_sources
    from harness.task_index import leaf_tasks, task_manager

    sources = plan_sources(suite, data_source, datasets_dir=datasets_dir)
    items: list[BenchmarkItem] = []
    tasks: dict[str, str] = {}  # lm-eval task -> benchmark
    for spec in suite.benchmarks:
        if spec.judge is not None:  # judged sets are read by evalboard itself, not lm-eval
            for index, row in enumerate(read_jsonl(bundle_dir(spec.judge.bundle) / "test.jsonl")):
                items.append(BenchmarkItem(spec.name, spec.judge.bundle, index, "\n".join(strings_in(row))))
        else:
            tasks[spec.task_for(sources[spec.name])] = spec.name
    if tasks:
        from lm_eval.tasks import get_task_dict

        builtin = needs_builtin_tasks(tasks) if tasks_dir == TASKS_DIR else True
        manager = task_manager(tasks_dir, builtin=builtin)
        for top, benchmark in tasks.items():
            for name, task in leaf_tasks(get_task_dict([top], manager)).items():
                for index, doc in enumerate(task.eval_docs):
                    for text in item_texts(task, doc):
                        items.append(BenchmarkItem(benchmark, str(name), index, text))
    return items


def item_texts(task: Any, doc: dict[str, Any]) -> list[str]:
    """The prompt the model is shown plus its answer (copied items are usually copied as shown),
    and each field of the row on its own (a question pasted without its choices)."""
    texts = [text for text in strings_in(doc) if len(normalized_tokens(text)) >= MIN_SHORT_ITEM]
    try:
        prompt = task.doc_to_text(doc)
        target = task.doc_to_target(doc)
        if isinstance(target, int) and task.OUTPUT_TYPE == "multiple_choice":
            target = task.doc_to_choice(doc)[target]
    except Exception:  # a task whose prompt cannot be rendered still has its fields checked
        return texts
    if isinstance(prompt, str):
        texts.append(f"{prompt} {target if isinstance(target, str) else ''}")
    return texts
