"""The items of judged benchmarks (harness/judged.py): the bundled sample written for evalboard,
or the public set saved by `evalboard datasets pull`.

lm-eval never reads these sets (the judge path answers and grades them itself), so `pull` does not
build an lm-eval task for them: it downloads the benchmark's declared file (JudgeSpec.hub_file)
from its hub dataset repository, checks that every line reads in the benchmark's schema, and saves
it unchanged as <datasets dir>/judged/<benchmark>/test.jsonl. A run whose plan says "hub" reads
that file; where it is not saved yet and the hub answers (data source hub or auto online), it is
downloaded and saved first, exactly as `pull` would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmarks.bundled_data import bundle_dir, read_jsonl
from benchmarks.datasources import DataSourceError, record_pulled
from benchmarks.spec import BenchmarkSpec
from harness import judge_methods

SAVED_DIR = "judged"


def saved_file(datasets_dir: Path, spec: BenchmarkSpec) -> Path:
    return datasets_dir / SAVED_DIR / spec.name / "test.jsonl"


def check_schema(spec: BenchmarkSpec, records: list[dict[str, Any]]) -> None:
    """Every record reads in the benchmark's schema (a ValueError naming the first that does not)."""
    method = judge_methods.of(spec)
    for number, record in enumerate(records, 1):
        try:
            method.check_record(record)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{spec.name}: line {number} is not in the benchmark's schema: {exc!r}") from exc


def pull(spec: BenchmarkSpec, datasets_dir: Path) -> list[list[str | None]]:
    """Download the benchmark's hub file, check it and save it; returns the datasets read (for
    pulled.json). Needs the network."""
    assert spec.judge is not None and spec.judge.hub_file and spec.hub_datasets
    from huggingface_hub import hf_hub_download

    repository, _ = spec.hub_datasets[0]
    downloaded = Path(
        hf_hub_download(
            repository, spec.judge.hub_file, repo_type="dataset", cache_dir=str(datasets_dir / "hub-files")
        )
    )
    records = read_jsonl(downloaded)
    check_schema(spec, records)
    target = saved_file(datasets_dir, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(downloaded.read_bytes())
    os.replace(temporary, target)
    datasets: list[list[str | None]] = [[repository, None]]
    record_pulled(datasets_dir, spec.task, datasets)
    return datasets


def load_items(
    spec: BenchmarkSpec, data_source: str, datasets_dir: Path | None, limit: int | None
) -> list[dict[str, Any]]:
    """The benchmark's items for this run: the saved public set on "hub", else the bundled sample."""
    assert spec.judge is not None
    if data_source == "hub":
        if datasets_dir is None:
            raise DataSourceError(f"{spec.name}: no datasets folder to read the saved public set from")
        path = saved_file(datasets_dir, spec)
        if not path.is_file():
            try:
                pull(spec, datasets_dir)
            except Exception as exc:
                raise DataSourceError(
                    f"{spec.name}: its public set is not saved here and could not be downloaded "
                    f"({type(exc).__name__}); run `evalboard datasets pull --suite ...` on a connected "
                    "machine and copy the datasets folder here, or use data source bundled"
                ) from exc
        items = read_jsonl(path)
        check_schema(spec, items)
    else:
        items = read_jsonl(bundle_dir(spec.judge.bundle) / "test.jsonl")
    return items[:limit] if limit else items
