"""The child process that runs one job attempt. Heavy imports (torch, lm_eval) happen only here.

Its exit code is the contract with the parent: 0 success (outcome.json written), PERMANENT_EXIT
for failures a retry cannot fix (error.json says why), anything else a crash worth retrying.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.procutil import die_with_parent
from app.worker import files
from app.worker.run_settings import harness_arguments, suite_tasks_dir

PERMANENT_EXIT = 3
TRANSIENT_EXIT = 4


def _redirect_output(log_path: Path) -> None:
    """Send fd 1 and 2 (Python, C extensions, tqdm) to the job log the parent tails."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def run_eval(spec: dict[str, Any], attempt_dir: Path) -> dict[str, Any]:
    from benchmarks.catalog import get_suite
    from benchmarks.target import ModelTarget
    from harness.runner import run_suite

    def on_progress(fraction: float, task: str | None) -> None:
        files.write_json_atomic(attempt_dir / files.PROGRESS, {"progress": fraction, "task": task})
        if task is None or "·" not in task:  # phase changes only; lm-eval's own bars show the rest
            print(f"[evalboard] progress {fraction:.0%} {task or 'done'}", flush=True)

    private_dir = Path(spec["private_dir"])
    suite = get_suite(spec["suite"], private_dir=private_dir)
    outcome = run_suite(
        ModelTarget(**spec["target"]),
        suite,
        cache_dir=Path(spec["cache_dir"]),
        tasks_dir=suite_tasks_dir(suite, private_dir),
        output_dir=attempt_dir,
        limit=spec.get("limit"),
        on_progress=on_progress,
        # A queued job names a model its submitter chose: loading checks where it connects, at
        # every connection (the operator's own `evalboard eval` does not go through here).
        guarded=True,
        **harness_arguments(spec["harness"]),
    )
    return {
        "metrics": [asdict(metric) for metric in outcome.metrics],
        "data_source": outcome.data_source,
        "item_scores": outcome.item_scores,  # numbers only, private benchmarks included
        "results_path": str(outcome.results_path),
        "samples_path": str(outcome.samples_path),
    }


def main(spec: dict[str, Any], attempt_dir_name: str) -> None:
    """multiprocessing target: run the job, write outcome.json or error.json, exit with a code."""
    attempt_dir = Path(attempt_dir_name)
    die_with_parent(signal.SIGKILL)  # a SIGKILLed worker takes its job's child down with it
    _redirect_output(attempt_dir / files.LOG)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from benchmarks.target import ModelLoadError, PermanentRunError

    try:
        if spec["kind"] == "finetune":
            from app.worker.finetune_child import run_finetune

            result = run_finetune(spec, attempt_dir)
        elif spec["kind"] == "eval":
            result = run_eval(spec, attempt_dir)
        elif spec["kind"] == "judge":
            from app.worker.judge_jobs import run_in_child

            result = run_in_child(spec, attempt_dir)
        else:
            raise ModelLoadError(f"this worker cannot run jobs of kind {spec['kind']!r}")
    except PermanentRunError as exc:
        traceback.print_exc()
        files.write_json_atomic(attempt_dir / files.ERROR, {"error": str(exc), "permanent": True})
        sys.stdout.flush()
        os._exit(PERMANENT_EXIT)
    except Exception as exc:
        traceback.print_exc()
        files.write_json_atomic(
            attempt_dir / files.ERROR, {"error": f"{type(exc).__name__}: {exc}", "permanent": False}
        )
        sys.stdout.flush()
        os._exit(TRANSIENT_EXIT)
    files.write_json_atomic(attempt_dir / files.OUTCOME, result)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: torch's can take seconds and has nothing to save
