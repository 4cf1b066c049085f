"""Dataset loaders for the evalboard "smoke" lm-eval tasks.

Each YAML in this folder uses ``custom_dataset: !function loaders.<name>``
instead of ``dataset_path: json`` + ``data_files``: lm-eval passes
``data_files`` straight to ``datasets.load_dataset``, which resolves relative
paths against the current working directory.  Locating the bundled JSONL
files relative to *this* file makes
``lm_eval --include_path benchmarks/tasks ...`` work from any directory.

``Dataset.from_list`` is used rather than ``load_dataset("json", ...)`` so
that loading never writes to the HF datasets cache and is fully offline and
deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "smoke"
SPLITS = ("dev", "test")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _load(name: str) -> DatasetDict:
    return DatasetDict(
        {split: Dataset.from_list(_read_jsonl(DATA_DIR / name / f"{split}.jsonl")) for split in SPLITS}
    )


# lm-eval calls custom_dataset(**metadata, **dataset_kwargs), and its metadata
# includes the YAML's `version`, --metadata and the model_args, so every loader
# accepts and ignores arbitrary keyword arguments.
def load_mmlu_en(**kwargs: Any) -> DatasetDict:
    """English MMLU-schema items: question, subject, choices[4], answer (0-3)."""
    return _load("mmlu_en")


def load_kmmlu_ko(**kwargs: Any) -> DatasetDict:
    """Korean KMMLU-schema items: question, A-D, answer (1-4), Category, Human Accuracy."""
    return _load("kmmlu_ko")


def load_short_answer(**kwargs: Any) -> DatasetDict:
    """Short-answer items: question, answer, aliases, lang ("en" or "ko")."""
    return _load("short_answer")
