"""Benchmarks and suites. Importable by the API process: no heavy imports here.

A benchmark lm-eval already knows is one BenchmarkSpec naming its task; one it does not know is a
YAML file under benchmarks/tasks/ plus its BenchmarkSpec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from benchmarks.private import REGISTRY_FILE, private_suite, registered_templates
from benchmarks.spec import BenchmarkSpec, Suite
from benchmarks.suites.generation import GEN_EN, GEN_KO
from benchmarks.suites.judge import JUDGE_EN, JUDGE_KO
from benchmarks.suites.ko_h5 import KO_H5
from benchmarks.suites.ko_llm_v2 import KO_LLM_V2
from benchmarks.suites.kobench import KOBENCH_SUITE
from benchmarks.suites.logickor import LOGICKOR
from benchmarks.suites.open_llm import OPEN_LLM_V1, OPEN_LLM_V2
from benchmarks.suites.smoke import SMOKE

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
# `task: name` or `group: name` on one line ([ \t]*: a block list on the next line is not a name).
TASK_NAME_LINE = re.compile(r"^(?:task|group):[ \t]*['\"]?([A-Za-z0-9_][\w.-]*)", re.MULTILINE)


@lru_cache(maxsize=1)
def local_task_names() -> frozenset[str]:
    """Task and group names defined by our YAML files (a line scan: the files use !function tags)."""
    return frozenset(
        name for path in TASKS_DIR.rglob("*.yaml") for name in TASK_NAME_LINE.findall(path.read_text("utf-8"))
    )


def task_dirs(tasks_dir: Path) -> list[Path]:
    """Where lm-eval finds a run's tasks: a server's private task folder sits beside the repository's
    (a template suite with registered benchmarks runs both)."""
    return [tasks_dir] if tasks_dir == TASKS_DIR else [tasks_dir, TASKS_DIR]


def needs_builtin_tasks(tasks: Iterable[str]) -> bool:
    """Whether any of these lm-eval tasks is a built-in one. If not, lm-eval's index of its
    thousands of built-in YAML files (about 10 s on a small CPU, on every run) can be skipped:
    our bundled tasks reach lm-eval's configs by file `include:`, not through that index."""
    local = local_task_names()
    return any(task not in local for task in tasks)


SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        SMOKE,
        OPEN_LLM_V1,
        OPEN_LLM_V2,
        KOBENCH_SUITE,
        KO_H5,
        KO_LLM_V2,
        GEN_KO,
        GEN_EN,
        JUDGE_KO,
        JUDGE_EN,
        LOGICKOR,
    )
}
__all__ = ["SMOKE", "SUITES", "BenchmarkSpec", "Suite", "all_suites", "get_suite"]


def all_suites(private_dir: Path | None = None) -> dict[str, Suite]:
    """The built-in suites, with the private-set templates an operator registered swapped in, plus
    "private" when private_dir holds registered benchmarks of its own (the registry is read each
    time it changed: `evalboard private add` needs no restart)."""
    if private_dir is None:
        return dict(SUITES)
    return dict(_suites_with_registry(private_dir, _registry_stamp(private_dir)))


def _registry_stamp(private_dir: Path) -> tuple[int, int, int] | None:
    """What tells a changed registry apart (a board view asks for its suite on every request, and
    reading and parsing the registry twice cost most of a millisecond)."""
    try:
        found = (private_dir / REGISTRY_FILE).stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size  # the inode: a registry replaced by rename


@lru_cache(maxsize=16)
def _suites_with_registry(private_dir: Path, _stamp: tuple[int, int, int] | None) -> dict[str, Suite]:
    from benchmarks.private_templates import with_registered

    registered = registered_templates(private_dir)
    suites = {name: with_registered(suite, registered) for name, suite in SUITES.items()}
    private = private_suite(private_dir)
    if private is not None:
        suites[private.name] = private
    return suites


def unknown_suites_message(names: list[str], known: dict[str, Suite] | None = None) -> str:
    known_names = ", ".join(sorted(known if known is not None else SUITES))
    return f"unknown suite {', '.join(map(repr, names))}; known suites: {known_names}"


def get_suite(name: str, private_dir: Path | None = None) -> Suite:
    suites = all_suites(private_dir)
    try:
        return suites[name]
    except KeyError:
        raise KeyError(unknown_suites_message([name], suites)) from None
