"""Where each benchmark's items come from: the hub (live or saved with `evalboard datasets pull`)
or the bundled sample written for evalboard.

`hub` runs lm-eval's own task on its real dataset; `bundled` runs the same config on our items;
`auto` takes the real dataset where it is saved locally or the hub answers, else the sample. A
private held-out benchmark (benchmarks/private.py), or a private-set template an operator
registered, always runs on its items on this server: real data, labelled "private".

The label is decided per benchmark (each result row records its own): a run whose benchmarks are
partly real has a row on the real-data board holding exactly its real benchmarks and one on the
sample-data board holding the rest (app/leaderboard/entries.py). The request's own label only
summarises the mix: one kind, "hub+private" (all real), or "mixed" (real and sample).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmarks.spec import BenchmarkSpec, Suite
from benchmarks.target import PermanentRunError

DATA_SOURCES = ("auto", "hub", "bundled")
PULLED_FILE = "pulled.json"
HUB_HOST = ("huggingface.co", 443)


class DataSourceError(PermanentRunError, ValueError):
    """The requested data cannot be had here; the message says what to change."""


@lru_cache(maxsize=4)
def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connection to the hub (DNS included), remembered for the process."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    try:
        socket.create_connection(HUB_HOST, timeout=timeout).close()
    except OSError:
        return False
    return True


def read_pulled(datasets_dir: Path) -> dict[str, Any]:
    path = datasets_dir / PULLED_FILE
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text("utf-8")).get("tasks", {}))


def record_pulled(datasets_dir: Path, task: str, datasets: list[list[str | None]]) -> None:
    """Written after a task's datasets are fully saved, so a marker never promises half a pull."""
    datasets_dir.mkdir(parents=True, exist_ok=True)
    path = datasets_dir / PULLED_FILE
    tasks = read_pulled(datasets_dir)
    tasks[task] = {"pulled_at": datetime.now(UTC).isoformat(timespec="seconds"), "datasets": datasets}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"tasks": tasks}, indent=2), "utf-8")
    os.replace(temporary, path)


def plan_sources(
    suite: Suite,
    requested: str,
    *,
    datasets_dir: Path,
    hub_online: Callable[[], bool] = hub_reachable,
) -> dict[str, str]:
    """Benchmark name -> "hub", "bundled" or "private"."""
    if requested not in DATA_SOURCES:
        raise DataSourceError(f"unknown data source {requested!r}; choose one of {', '.join(DATA_SOURCES)}")
    pulled = read_pulled(datasets_dir)
    plan: dict[str, str] = {}
    for spec in suite.benchmarks:
        if spec.private:  # held-out items on this server: no sample stands in for them
            plan[spec.name] = "private"
        elif not spec.has_hub_data or requested == "bundled":
            plan[spec.name] = "bundled"  # our own tasks: their items live in the repository
        elif requested == "hub" or spec.task in pulled or hub_online():
            plan[spec.name] = "hub"
        else:
            plan[spec.name] = "bundled"
    return plan


def needs_network(
    plan: dict[str, str], suite: Suite, datasets_dir: Path, hub_online: Callable[[], bool] = hub_reachable
) -> bool:
    """Whether the run must download datasets; a DataSourceError when it must and cannot (a
    retry would not help: the job fails at once, saying what to do)."""
    pulled = read_pulled(datasets_dir)
    missing = [spec.name for spec in suite.benchmarks if plan[spec.name] == "hub" and spec.task not in pulled]
    if missing and not os.environ.get("HF_ENDPOINT") and not hub_online():
        raise DataSourceError(
            f"data source hub: {', '.join(missing)} are neither saved here nor downloadable (the hub is "
            "unreachable); run `evalboard datasets pull` on a connected machine and copy the datasets "
            "folder here, or use data source auto or bundled"
        )
    return bool(missing)


REAL_SOURCES = ("hub", "private")  # a benchmark's data that ranks on the real-data board
# Request labels with at least one real-data benchmark, and the labels of requests with some sample data.
REAL_LABELS = ("hub", "private", "hub+private", "mixed")
SAMPLE_LABELS = ("bundled", "mixed")  # and NULL: requests that finished before labels were recorded


def request_label(plan: dict[str, str]) -> str:
    """hub | private | bundled | hub+private | mixed: the mix of a request's per-benchmark sources."""
    kinds = set(plan.values())
    if len(kinds) == 1:
        return kinds.pop()
    return "hub+private" if kinds <= set(REAL_SOURCES) else "mixed"


def data_board(source: str | None) -> str:
    """The board a benchmark's score ranks on: "hub" (real data) or "bundled" (sample data)."""
    return "hub" if source in REAL_SOURCES else "bundled"


def request_boards(label: str | None) -> tuple[str, ...]:
    """The boards a request with this label can have rows on."""
    boards = []
    if label in REAL_LABELS:
        boards.append("hub")
    if label is None or label in SAMPLE_LABELS:
        boards.append("bundled")
    return tuple(boards)


def describe(spec: BenchmarkSpec, datasets_dir: Path, bundled_items: int | None) -> dict[str, Any]:
    """One row of `evalboard datasets list`."""
    return {
        "benchmark": spec.name,
        "hub_task": spec.task if spec.has_hub_data else None,
        "hub_datasets": spec.hub_dataset_labels,
        "saved_locally": spec.task in read_pulled(datasets_dir),
        "bundled_task": spec.task_for("bundled") if spec.bundled_task or not spec.has_hub_data else None,
        "bundled_items": bundled_items,
    }
