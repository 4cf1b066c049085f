"""What a job child turns the worker's settings into before it runs: run_suite's keyword arguments,
the judge, and where a suite's task YAML lives. Shared by the eval, fine-tune and judge children and
the operator's in-process commands, so none of them imports another child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def harness_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """Settings.harness_kwargs (plain JSON) -> run_suite keyword arguments."""
    options = dict(options)
    response_cache = options.pop("response_cache_dir", None)
    datasets_dir = options.pop("datasets_dir")
    judge = options.pop("judge", None)
    return {
        **options,
        "judge": judge_setup(judge) if judge else None,
        "datasets_dir": Path(datasets_dir),
        "response_cache_dir": Path(response_cache) if response_cache else None,
    }


def judge_setup(options: dict[str, Any]) -> Any:
    """Settings.judge_options -> harness.judged.JudgeSetup, with the judge cache in the database
    (or, with cache_url None, no cache)."""
    from app.judging.cache_store import DatabaseJudgeCache
    from evaluators.judge.client import JudgeEndpoint
    from harness.judged import JudgeSetup

    endpoint = options.get("endpoint")
    cache_url = options.get("cache_url")
    return JudgeSetup(
        endpoint=JudgeEndpoint(**endpoint) if endpoint else None,
        cache=DatabaseJudgeCache(cache_url, create_table=bool(options.get("cache_create")))
        if cache_url
        else None,
        penalize_non_korean=bool(options.get("korean_penalty", True)),
        use_logprobs=bool(options.get("logprobs", True)),
        local_model=str(options.get("local_model") or "bundled:smollm2-135m-instruct"),
        max_tokens=options.get("max_tokens"),
        budget_usd=options.get("budget_usd"),
        repeats=int(options.get("repeats") or 1),
    )


def suite_tasks_dir(suite: Any, private_dir: Path) -> Path:
    """Private task YAMLs (the "private" suite's, and registered private-set templates') live with
    their items on this server, not in the repository; run_suite adds the repository's tasks."""
    from benchmarks.catalog import TASKS_DIR

    return private_dir / "tasks" if any(spec.private for spec in suite.benchmarks) else TASKS_DIR
